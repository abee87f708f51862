"""Column roles for a user's table: guess each column's type, propose roles, check a choice.

The roles of the lessons' two-level (and three-level) models:

- ``outcome``: the response, numbers;
- ``predictor``: a level-1 predictor, numbers that vary within groups;
- ``group``: the grouping factor (schools), any labels;
- ``level2_predictor`` (optional): numbers constant within each group (a school's mean);
- ``level3_group`` (optional): a grouping that nests the groups (areas around schools).

:func:`check_roles` finds every problem before a fit, in plain words; :func:`model_data`
returns the rows a fit uses, with the group labels exactly as the file wrote them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from hlmlab.userdata.table import UserTable
from hlmlab.userdata.text import UserDataError, count_phrase, shown
from hlmlab.userdata.views import grouping_problem, nesting_problem

__all__ = [
    "COLUMN_KINDS",
    "ColumnProfile",
    "ColumnRoles",
    "RoleCheck",
    "check_roles",
    "model_data",
    "profile_columns",
    "propose_roles",
    "subsample",
    "subsample_bounds",
]

#: The types a column is guessed to have (the page lets the user override roles, not types).
COLUMN_KINDS = ("numeric", "categorical", "identifier", "text", "constant", "mostly missing")
#: A column with more missing cells than this share is "mostly missing".
MOSTLY_MISSING = 0.5
#: A text column with at most this many distinct values is categorical.
CATEGORY_LEVELS = 20
_GROUP_WORDS = ("school", "group", "class", "cluster", "subject", "id", "team", "site", "unit",
                "country", "hospital", "clinic", "ward", "family", "child", "person")
_OUTCOME_WORDS = ("score", "math", "ach", "exam", "test", "outcome", "result", "reaction",
                  "height", "weight", "response", "y")


@dataclass(frozen=True)
class ColumnProfile:
    """What a column holds, for the page's column table and the role proposal.

    Attributes
    ----------
    name : the column's name.
    kind : one of :data:`COLUMN_KINDS`.
    missing : cells missing.
    distinct : distinct values among the rest.
    numbers : cells that are numbers (all filled cells for a number column).
    not_numbers : filled cells that are not numbers, in a column most of whose cells are
        numbers (text in a numeric column); 0 otherwise.
    infinite : cells holding infinity.
    whole : every number is a whole number.
    """

    name: str
    kind: str
    missing: int
    distinct: int
    numbers: int
    not_numbers: int
    infinite: int
    whole: bool

    def describe(self) -> str:
        """A short phrase: ``"numeric, 3 missing"``."""
        parts = [self.kind]
        if self.not_numbers:
            parts.append(f"{count_phrase(self.not_numbers, 'cell')} of text")
        if self.infinite:
            parts.append(f"{count_phrase(self.infinite, 'infinite value')}")
        if self.missing:
            parts.append(f"{self.missing:,} missing")
        return ", ".join(parts)


def profile_columns(table: UserTable) -> list[ColumnProfile]:
    """Guess every column's kind.

    Rules: more than half missing is *mostly missing*; one distinct value, *constant*;
    numbers (or text that is mostly numbers) are *numeric*, unless they are whole numbers
    named like an identifier (school, id, class...) or as many as the rows, then
    *identifier*; text with at most :data:`CATEGORY_LEVELS` values is *categorical*; text
    whose values repeat is an *identifier* (group labels); other text is *text*.
    """
    from hlmlab.userdata.reading import to_numbers

    profiles = []
    n_rows = len(table.frame)
    for name in table.frame.columns:
        values = table.frame[name]
        filled = values.dropna()
        missing = n_rows - len(filled)
        distinct = int(filled.nunique())
        numbers = to_numbers(filled, table.raw.options.decimal_comma)
        n_numbers = int(numbers.notna().sum())
        finite = numbers[np.isfinite(numbers)]
        whole = bool(len(finite)) and bool((finite == np.round(finite)).all())
        mostly_numbers = n_numbers >= 0.5 * max(len(filled), 1) and n_numbers > 0
        not_numbers = int(len(filled) - n_numbers) if mostly_numbers else 0
        infinite = int(np.isinf(numbers).sum())
        if missing > MOSTLY_MISSING * n_rows:
            kind = "mostly missing"
        elif distinct <= 1:
            kind = "constant"
        elif mostly_numbers and not_numbers == 0 and not table.is_number_column(name):
            kind = "identifier"  # whole numbers beyond 2^53, kept as text labels
        elif mostly_numbers:
            named_like_id = _named_like(name, _GROUP_WORDS)
            kind = "identifier" if whole and (named_like_id or distinct == len(filled)) else "numeric"
        elif distinct <= CATEGORY_LEVELS:
            kind = "categorical"
        elif distinct < len(filled):
            kind = "identifier"
        else:
            kind = "text"
        profiles.append(ColumnProfile(name, kind, missing, distinct, n_numbers, not_numbers,
                                      infinite, whole))
    return profiles


def _named_like(name: str, words) -> bool:
    lowered = str(name).lower()
    tokens = set("".join(c if c.isalnum() else " " for c in lowered).split())
    return any(word in tokens or (len(word) > 2 and word in lowered) for word in words)


@dataclass(frozen=True)
class ColumnRoles:
    """Which column plays which part in the model (None: not chosen)."""

    outcome: str | None = None
    predictor: str | None = None
    group: str | None = None
    level2_predictor: str | None = None
    level3_group: str | None = None

    def chosen(self) -> dict[str, str]:
        """Role -> column, for the roles that have a column."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def numeric(self) -> list[str]:
        """The columns that must hold numbers."""
        return [c for c in (self.outcome, self.predictor, self.level2_predictor) if c]


ROLE_WORDS = {
    "outcome": "the outcome",
    "predictor": "the level-1 predictor",
    "group": "the group",
    "level2_predictor": "the level-2 predictor",
    "level3_group": "the third-level group",
}


def propose_roles(table: UserTable, profiles: list[ColumnProfile] | None = None) -> ColumnRoles:
    """A first guess at the roles, for the user to correct.

    The group is an identifier (or categorical) column whose groups hold two rows or more on
    average, preferring names like school/group/class/id; the outcome a numeric column named
    like a score, else the first numeric one; the predictor the next numeric column that
    varies within groups; the level-2 predictor a numeric column constant within groups.
    The third level is left for the user to choose.
    """
    profiles = profiles if profiles is not None else profile_columns(table)
    frame = table.frame
    n_rows = len(frame)
    # Labels whose values repeat: identifiers and categories first, then whole numbers.
    candidates = [p for p in profiles if 2 <= p.distinct <= n_rows / 2 and (
        p.kind in ("identifier", "categorical") or (p.kind == "numeric" and p.whole))]
    candidates.sort(key=lambda p: (p.kind == "numeric", not _named_like(p.name, _GROUP_WORDS),
                                   -p.distinct))
    group = candidates[0].name if candidates else None
    numeric = [p.name for p in profiles if p.kind == "numeric" and p.not_numbers == 0
               and p.infinite == 0 and p.name != group]
    named = [name for name in numeric if _named_like(name, _OUTCOME_WORDS)]
    outcome = (named or numeric or [None])[0]
    within, between = [], []
    for name in numeric:
        if name == outcome:
            continue
        constant_within = group is not None and _constant_within(frame, name, group)
        (between if constant_within else within).append(name)
    return ColumnRoles(outcome=outcome, predictor=(within or [None])[0], group=group,
                       level2_predictor=(between or [None])[0])


def _constant_within(frame: pd.DataFrame, column: str, group: str) -> bool:
    rows = frame[[column, group]].dropna()
    return bool(len(rows)) and bool((rows.groupby(group)[column].nunique() <= 1).all())


@dataclass(frozen=True)
class RoleCheck:
    """The outcome of :func:`check_roles`.

    Attributes
    ----------
    errors : problems that stop a fit, each one plain sentence.
    notes : things the student should know (rows dropped, a level-2 predictor that varies
        within groups), that do not stop a fit.
    """

    errors: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """No error: the roles can be fitted."""
        return not self.errors


def check_roles(table: UserTable, roles: ColumnRoles) -> RoleCheck:
    """Check a choice of roles before any fit.

    Parameters
    ----------
    table : the user's table.
    roles : the chosen roles; ``outcome``, ``predictor`` and ``group`` are required.

    Returns
    -------
    RoleCheck
    """
    errors: list[str] = []
    notes: list[str] = []
    frame = table.frame
    chosen = roles.chosen()
    for role in ("outcome", "predictor", "group"):
        if role not in chosen:
            errors.append(f"Choose a column for {ROLE_WORDS[role]}.")
    unknown = [column for column in chosen.values() if column not in frame.columns]
    if unknown:
        errors.append(f"The table has no column {shown(unknown[0])}.")
        return RoleCheck(tuple(errors), tuple(notes))
    repeated = [c for c in dict.fromkeys(chosen.values()) if list(chosen.values()).count(c) > 1]
    for column in repeated:
        parts = [ROLE_WORDS[r] for r, c in chosen.items() if c == column]
        errors.append(f"{shown(column)} is chosen as both {parts[0]} and {parts[1]}; each role "
                      "needs a column of its own.")
    for role, column in chosen.items():
        if column in roles.numeric():
            errors.extend(_numeric_problems(table, column, ROLE_WORDS[role]))
    if errors:
        return RoleCheck(tuple(errors), tuple(notes))

    rows = _complete_rows(table, roles)
    dropped = len(frame) - len(rows)
    if dropped:
        notes.append(f"{count_phrase(dropped, 'row')} with a missing value in a chosen column "
                     f"{'is' if dropped == 1 else 'are'} left out; {len(rows):,} remain.")
    problem = grouping_problem(rows, roles.group, roles.predictor, roles.outcome)
    if problem:
        errors.append(problem)
    if roles.level3_group:
        nesting = nesting_problem(rows, roles.group, roles.level3_group)
        if nesting:
            errors.append(nesting)
        elif rows[roles.level3_group].nunique() < 2:
            errors.append(f"The third-level group {shown(roles.level3_group)} has one unit "
                          "only; a third level needs at least two.")
    if not errors:
        notes.extend(_group_notes(rows, roles))
    return RoleCheck(tuple(errors), tuple(notes))


def _numeric_problems(table: UserTable, column: str, role_words: str) -> list[str]:
    values = table.frame[column]
    if values.notna().sum() == 0:
        return [f"{shown(column)}, {role_words}, is empty in every row."]
    if not table.is_number_column(column):
        from hlmlab.userdata.reading import to_numbers

        numbers = to_numbers(values, table.raw.options.decimal_comma)
        text = values.notna() & numbers.isna()
        if not text.any():
            return [f"{shown(column)}, {role_words}, holds whole numbers too large to compute "
                    "with exactly (beyond 2^53): it can label groups, not be a number in a "
                    "model."]
        first = int(np.flatnonzero(text.to_numpy())[0])
        count = int(text.sum())
        return [f"{shown(column)}, {role_words}, must hold numbers, but "
                f"{count_phrase(count, 'cell')} {'holds' if count == 1 else 'hold'} text (the "
                "first in data row "
                f"{first + 1}: {shown(values.iloc[first])}). Correct or empty those cells."]
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        first = int(np.flatnonzero(infinite)[0])
        return [f"{shown(column)}, {role_words}, holds infinity in "
                f"{count_phrase(int(infinite.sum()), 'row')} (the first is data row "
                f"{first + 1}). Replace those cells with numbers or leave them empty."]
    if values.nunique() < 2:
        return [f"{shown(column)}, {role_words}, has the same value "
                f"({_number(values.dropna().iloc[0])}) in every row; it must vary."]
    return []


def _number(value: float) -> str:
    return f"{value:g}" if math.isfinite(value) else str(value)


def _complete_rows(table: UserTable, roles: ColumnRoles) -> pd.DataFrame:
    columns = list(dict.fromkeys(roles.chosen().values()))
    rows = table.frame[columns].dropna()
    for column in (roles.group, roles.level3_group):
        labels = rows[column] if column else None
        # Whole-number labels read as 12, not 12.0; exact below 2^53 (larger stay text).
        if labels is not None and pd.api.types.is_float_dtype(labels) \
                and (labels == np.round(labels)).all() and (labels.abs() < 2**53).all():
            rows[column] = labels.astype(np.int64)
    return rows


def _group_notes(rows: pd.DataFrame, roles: ColumnRoles) -> list[str]:
    notes = []
    sizes = rows.groupby(roles.group).size()
    singles = int((sizes == 1).sum())
    if singles:
        notes.append(f"{count_phrase(singles, 'group')} of {shown(roles.group)} "
                     f"{'has' if singles == 1 else 'have'} a single row: they add to the "
                     "between-group variance but have no line of their own.")
    if not _varies_within(rows, roles.predictor, roles.group):
        notes.append(f"{shown(roles.predictor)} never varies within a group, so its slope "
                     "cannot vary by group: fit a random intercept only.")
    if roles.level2_predictor and not _constant_within(rows, roles.level2_predictor, roles.group):
        notes.append(f"{shown(roles.level2_predictor)} varies within groups; a level-2 "
                     "predictor is usually one value per group (a group mean, a school's type).")
    return notes


def _varies_within(rows: pd.DataFrame, column: str, group: str) -> bool:
    return bool((rows.groupby(group)[column].nunique() > 1).any())


def model_data(table: UserTable, roles: ColumnRoles) -> pd.DataFrame:
    """The rows a fit uses: the chosen columns, complete rows only.

    Group labels are kept exactly: numbers as floats (distinct numbers stay distinct), text
    (including whole numbers beyond 2^53) as text. The index is the data row's number in the
    file.

    Raises
    ------
    UserDataError
        When :func:`check_roles` finds an error (its first one is the message).
    """
    check = check_roles(table, roles)
    if not check.ok:
        raise UserDataError(check.errors[0])
    rows = _complete_rows(table, roles)
    rows.attrs = {**table.frame.attrs, "dropped_rows": len(table.frame) - len(rows),
                  "roles": roles.chosen()}
    return rows


def subsample(rows: pd.DataFrame, group: str, n_groups: int, per_group: int,
              seed: int = 0) -> pd.DataFrame:
    """Keep ``n_groups`` groups and at most ``per_group`` rows in each, seeded and nested.

    The lessons' own sampling (:func:`hlmlab.datasets.sample_groups`): the groups kept at k
    are among those kept at k + 1, and the rows kept per group at m among those at m + 1.
    Rows keep their file row numbers, which a generated script lists.
    """
    from hlmlab.datasets import sample_groups

    if n_groups < 1 or per_group < 1:
        raise UserDataError("Keep at least one group and one row per group.")
    return sample_groups(rows, group, n_groups, per_group, seed=seed)


def subsample_bounds(rows: pd.DataFrame, group: str) -> dict[str, tuple[int, int]]:
    """The sliders' ranges for :func:`subsample`: ``groups`` from 2 to the number of groups,
    ``per_group`` from 2 to the largest group's rows. A range whose low end is not below its
    high end has no slider (:func:`hlmlab.userdata.views.slider_problem` says why)."""
    sizes = rows.groupby(group).size()
    return {"groups": (2, int(len(sizes))), "per_group": (2, int(sizes.max()) if len(sizes) else 0)}
