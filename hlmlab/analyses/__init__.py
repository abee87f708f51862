"""Lesson-specific analyses and figures, one pair of modules per lesson page.

The pattern is the page's file stem: ``pages/jsp_schools.py`` has
``hlmlab/analyses/jsp_schools.py`` (what it computes) and
``hlmlab/analyses/jsp_schools_figures.py`` (what it draws). Anything a second lesson (or a
future "your data" page) could use belongs in the core modules of :mod:`hlmlab` instead.
"""
