"""Lesson-specific analyses and figures, one set of modules per lesson page.

The pattern is the page's file stem: ``pages/jsp_schools.py`` has
``hlmlab/analyses/jsp_schools.py`` (what it computes) and
``hlmlab/analyses/jsp_schools_figures.py`` (what it draws), and, for its questions,
``hlmlab/analyses/jsp_schools_questions.py`` (the live evidence each answer shows). Anything
a second lesson (or a future "your data" page) could use belongs in the core modules of
:mod:`hlmlab` instead.
"""
