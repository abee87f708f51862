"""hlmlab.ranking: groups ranked with intervals and rank ranges (Goldstein & Spiegelhalter
1996). Effects and SDs are written by hand here; the ranking of a real fit against lme4's
conditional modes is in test_lesson_jsp_schools.py."""

from __future__ import annotations

import types

import pandas as pd
import pytest

from hlmlab.ranking import Z95, rank_changes, rank_groups, ranking_summary


def fake_fit(effects, sds):
    blups = pd.DataFrame({"n": 10, "u0": effects, "u0_sd": sds},
                         index=pd.Index(list("ABCD")[: len(effects)], name="school"))
    return types.SimpleNamespace(blups=blups)


def test_rank_groups_intervals_positions_and_ranks():
    table = rank_groups(fake_fit([2.0, -3.0, 0.5, 0.0], [0.5, 1.0, 1.0, 1e-9]),
                        raw_means=pd.Series({"A": 20, "B": 30, "C": 25, "D": 10}))
    assert table.index.tolist() == ["A", "C", "D", "B"]  # sorted by effect
    assert table.index.name == "school"
    assert table.loc["A", "lower"] == pytest.approx(2.0 - 1.959963984540054 * 0.5)
    assert table.loc["B", "upper"] == pytest.approx(-3.0 + 1.959963984540054)
    assert table["position"].to_dict() == {"A": "above", "C": "average", "D": "average",
                                           "B": "below"}
    assert table["rank"].to_dict() == {"A": 1, "C": 2, "D": 3, "B": 4}
    assert table["naive_rank"].to_dict() == {"A": 3, "C": 2, "D": 4, "B": 1}
    # B is far below everyone: its rank never moves. C and D overlap: both can take 2 or 3.
    assert (table.loc["B", "rank_low"], table.loc["B", "rank_high"]) == (4, 4)
    assert table.loc["C", "rank_low"] <= 2 and table.loc["C", "rank_high"] >= 3
    summary = ranking_summary(table)
    assert (summary["groups"], summary["overlap_average"], summary["above"],
            summary["below"]) == (4, 2, 1, 1)
    assert summary["widest_group"] in {"C", "D"}


def test_rank_ranges_are_seeded_and_shrink_with_precision():
    wide = rank_groups(fake_fit([0.0, 0.1, 0.2, 0.3], [1.0] * 4), seed=7)
    again = rank_groups(fake_fit([0.0, 0.1, 0.2, 0.3], [1.0] * 4), seed=7)
    narrow = rank_groups(fake_fit([0.0, 0.1, 0.2, 0.3], [0.001] * 4), seed=7)
    pd.testing.assert_frame_equal(wide, again)
    assert (wide["rank_high"] - wide["rank_low"]).min() >= 2
    assert (narrow["rank_high"] == narrow["rank_low"]).all()
    assert (narrow["rank"] == narrow["rank_low"]).all()


def test_other_levels_use_their_own_normal_quantile():
    table = rank_groups(fake_fit([0.0, 1.0], [1.0, 1.0]), level=0.9)
    assert table.loc["A", "upper"] == pytest.approx(1.6448536269514722)
    assert Z95 == pytest.approx(1.959963984540054)


def test_rank_changes_sign_and_order():
    adjusted = pd.DataFrame({"rank": [1, 2, 3]}, index=["A", "B", "C"])
    unadjusted = pd.DataFrame({"rank": [3, 2, 1]}, index=["A", "B", "C"])
    changes = rank_changes(adjusted, unadjusted)
    assert changes.index.tolist() == ["A", "C", "B"]
    assert changes.loc["A", "change"] == 2 and changes.loc["C", "change"] == -2
    assert changes.loc["B", "moved"] == 0
