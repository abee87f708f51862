"""From a user's DataFrame to the arrays a model is fitted on.

Models are built from arrays, never from a formula string, so a column name is only ever
looked up, not executed. The helpers here check the columns a model needs, turn group labels
into integer codes and freeze small mappings so fits can be cached and pickled.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from hlmlab.errors import ModelDataError

__all__ = ["FrozenMapping", "group_codes", "nested_codes", "prepare_columns"]


class FrozenMapping(Mapping):
    """A read-only mapping that, unlike ``MappingProxyType``, pickles (for ``st.cache_data``)."""

    def __init__(self, data: Mapping):
        self._data = dict(data)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"


def prepare_columns(
    data: pd.DataFrame, columns: Sequence[str], numeric: Sequence[str]
) -> tuple[pd.DataFrame, int]:
    """The model's columns of ``data``, numeric ones as floats, rows with a missing value
    dropped.

    Parameters
    ----------
    data : the user's rows.
    columns : every column the model uses (duplicates allowed).
    numeric : those that must hold numbers.

    Returns
    -------
    (frame, dropped) : a copy with just ``columns``, and how many rows were dropped.

    Raises
    ------
    ModelDataError
        When a column is missing or a numeric column holds text.
    """
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ModelDataError(
            f"The data have no column named {', '.join(repr(c) for c in missing)}."
        )
    frame = data.loc[:, list(dict.fromkeys(columns))].copy()
    for column in numeric:
        converted = pd.to_numeric(frame[column], errors="coerce")
        if converted.notna().sum() < frame[column].notna().sum():
            raise ModelDataError(
                f"Column {column!r} must hold numbers, but some values are not numeric."
            )
        frame[column] = converted.astype(float)
    n_before = len(frame)
    frame = frame.dropna()
    return frame, n_before - len(frame)


def group_codes(groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct labels of ``groups`` and each row's index into them."""
    labels, codes = np.unique(groups.to_numpy(), return_inverse=True)
    return labels, codes


def nested_codes(groups: pd.Series, subgroups: pd.Series) -> np.ndarray:
    """Integer codes of subgroups nested in groups: a subgroup label that repeats in two
    groups (pupil 1 of school A, pupil 1 of school B) is two subgroups."""
    keys = groups.astype(str) + "\x1f" + subgroups.astype(str)
    _, codes = np.unique(keys.to_numpy(), return_inverse=True)
    return codes
