"""Lesson-specific analyses, one module per page, named after the page's file stem."""
