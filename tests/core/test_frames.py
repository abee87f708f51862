"""hlmlab.frames and hlmlab.errors: from a user's frame to model arrays, and the error a
student reads when that is impossible."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from hlmlab.errors import ModelDataError
from hlmlab.frames import FrozenMapping, group_codes, nested_codes, prepare_columns


def test_prepare_columns_converts_numbers_and_counts_dropped_rows():
    data = pd.DataFrame({"y": ["1", "2", None, "4"], "x": [1, 2, 3, None], "g": list("abab"),
                         "unused": 0})
    frame, dropped = prepare_columns(data, ["y", "x", "g", "x"], ["y", "x"])
    assert list(frame.columns) == ["y", "x", "g"] and dropped == 2
    assert frame["y"].tolist() == [1.0, 2.0] and frame["y"].dtype == float


def test_prepare_columns_names_what_is_wrong_in_words():
    data = pd.DataFrame({"y": ["high", "low"], "g": [1, 2]})
    with pytest.raises(ModelDataError, match="no column named 'x'"):
        prepare_columns(data, ["y", "x"], ["y"])
    with pytest.raises(ModelDataError, match="'y' must hold numbers"):
        prepare_columns(data, ["y", "g"], ["y"])
    # Callers that catch ValueError (the data loaders' convention) still see it.
    assert issubclass(ModelDataError, ValueError)


def test_group_codes_and_nested_codes():
    labels, codes = group_codes(pd.Series(["b", "a", "b", "c"]))
    assert labels.tolist() == ["a", "b", "c"] and codes.tolist() == [1, 0, 1, 2]
    # Pupil 1 of school A and pupil 1 of school B are two pupils.
    codes = nested_codes(pd.Series(["A", "A", "B", "B"]), pd.Series([1, 2, 1, 1]))
    assert codes.tolist() == [0, 1, 2, 2]


def test_frozen_mapping_is_read_only_and_pickles():
    frozen = FrozenMapping({"tau00": 1.5, "sigma2": np.float64(2.0)})
    assert dict(frozen) == {"tau00": 1.5, "sigma2": 2.0} and len(frozen) == 2
    with pytest.raises(TypeError):
        frozen["tau00"] = 3.0  # noqa: the point of the test
    assert dict(pickle.loads(pickle.dumps(frozen))) == dict(frozen)
