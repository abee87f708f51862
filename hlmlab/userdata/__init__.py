"""A user's own data: a safe reader for any table file, column roles, and reproducible scripts.

Pure functions, no Streamlit (the "Your data" page calls them):

- :mod:`~hlmlab.userdata.reading` reads a file's cells within stated limits (also the
  reader of :func:`hlmlab.datasets.read_original`); :mod:`~hlmlab.userdata.excel` opens
  workbooks after checking their archive;
- :mod:`~hlmlab.userdata.table` names and types the columns;
- :mod:`~hlmlab.userdata.roles` guesses column types, proposes and checks roles, and
  subsamples groups; :mod:`~hlmlab.userdata.views` says when a view cannot be shown;
- :mod:`~hlmlab.userdata.scripts` writes the Python and R scripts that reproduce a fit and
  the CSV of its results.

Every failure is a :class:`UserDataError` with a message for a student; text from a file is
echoed only through :func:`~hlmlab.userdata.text.shown` (short, inert as Markdown).
"""

from hlmlab.userdata.reading import (
    MAX_CELL_CHARACTERS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_FILE_MEGABYTES,
    MAX_ROWS,
    limits_text,
    workbook_sheets,
)
from hlmlab.userdata.roles import (
    COLUMN_KINDS,
    ColumnProfile,
    ColumnRoles,
    RoleCheck,
    check_roles,
    model_data,
    profile_columns,
    propose_roles,
    subsample,
    subsample_bounds,
)
from hlmlab.userdata.table import UserTable, read_user_file, read_user_path
from hlmlab.userdata.text import UserDataError, shown
from hlmlab.userdata.views import grouping_problem, nesting_problem, slider_problem

__all__ = [
    "COLUMN_KINDS",
    "MAX_CELLS",
    "MAX_CELL_CHARACTERS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_FILE_MEGABYTES",
    "MAX_ROWS",
    "ColumnProfile",
    "ColumnRoles",
    "RoleCheck",
    "UserDataError",
    "UserTable",
    "check_roles",
    "grouping_problem",
    "limits_text",
    "model_data",
    "nesting_problem",
    "profile_columns",
    "propose_roles",
    "read_user_file",
    "read_user_path",
    "shown",
    "slider_problem",
    "subsample",
    "subsample_bounds",
    "workbook_sheets",
]
