"""Where every question of the lesson pages is asked and what it hides: shared by the AppTest
page tests (tests/app/test_lesson_questions.py) and the browser walk
(tests/browser/test_questions_browser.py). A question added to a page is added here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Asked:
    """Where a question is asked and what it hides.

    Attributes
    ----------
    key : its widget key (``ask(..., key)``); section : its lesson section id.
    view : the tab it is on (tabbed pages); step : the NELS88 lesson step.
    hides : keys of the charts that answer it (absent before, inside the container after).
    switch_on : toggles to turn on first (a view that fits on request).
    """

    key: str
    section: str
    view: str | None = None
    step: str | None = None
    hides: tuple[str, ...] = ()
    switch_on: tuple[str, ...] = field(default=())


PAGES = {
    ("pages/nels88_two_schools.py", "nels88_two_schools"): [
        Asked("nels_q_one_line", "question-one-line", step="3 · Colour by school"),
        Asked("nels_q_shrink", "question-shrink", step="4 · Three kinds of lines"),
        Asked("nels_q_pooled", "question-pooled-slope", step="4 · Three kinds of lines"),
    ],
    ("pages/jsp_schools.py", "jsp_schools"): [
        Asked("jsp_level1_q", "question-intake", view="1 · Within one school"),
        Asked("jsp_level2_q", "question-r2", view="2 · Between schools", hides=("jsp_level2_r2",)),
        Asked("jsp_pool_q", "question-lines", view="3 · Three kinds of lines"),
        Asked("jsp_rank_q", "question-rank", view="4 · Ranking schools",
              hides=("jsp_rank_caterpillar", "jsp_rank_slope")),
        Asked("jsp_sep_q", "question-separate", view="5 · When separate lines are fine"),
        Asked("jsp_levels_q", "question-levels", view="6 · Three levels"),
    ],
    ("pages/why_multilevel.py", "why_multilevel"): [
        Asked("why_classic_q", "question-classic", view="1 · The classic study"),
        Asked("why_precision_q", "question-precision", view="2 · Precision",
              hides=("why_precision_chart",)),
        Asked("why_icc_q", "question-icc", view="3 · The ICC", hides=("why_icc_partition_chart",)),
        Asked("why_sampling_q", "question-sampling", view="4 · Sampling designs"),
        Asked("why_hsb_q", "question-advantages", view="5 · Hsb82: three analyses"),
    ],
    ("pages/longitudinal.py", "longitudinal"): [
        Asked("long_p1_q", "question-explanations", view="1 · Reading and age",
              hides=("long_slopes_chart",)),
        Asked("long_p2_q", "question-complete-case", view="2 · Growth curves, unbalanced"),
        Asked("long_real_ox_q", "question-boys-differ", view="3 · Real growth data"),
        Asked("long_real_eg_q", "question-three-levels", view="3 · Real growth data",
              hides=("long_egsingle_levels_chart",), switch_on=("egsingle",)),
        Asked("long_ar1_q", "question-autocorrelation", view="4 · Autocorrelated errors",
              hides=("long_ar1_chart",)),
    ],
    ("pages/macro_micro.py", "macro_micro"): [
        Asked("mm_prop_school_q", "question-propositions-school-mean", view="1 · Propositions"),
        Asked("mm_prop_term_q", "question-propositions-interaction-term", view="1 · Propositions"),
        Asked("mm_prop_up_q", "question-propositions-emergent", view="1 · Propositions"),
        Asked("mm_cent_pool_q", "question-centring-pooled", view="2 · Centring on Hsb82",
              hides=("mm_cent_chart",)),
        Asked("mm_cent_mean_q", "question-centring-mean-coefficient",
              view="2 · Centring on Hsb82"),
        Asked("mm_ctx_q", "question-contextual-blend", view="3 · Within, between, blended"),
        Asked("mm_sector_q", "question-sector-slopes", view="4 · Sector × SES",
              hides=("mm_sector_chart",)),
        Asked("mm_tau11_q", "question-sector-tau11", view="4 · Sector × SES"),
        Asked("mm_group_q", "question-grouping-explained", view="5 · Ability grouping"),
        Asked("mm_me_q", "question-measurement-tau00", view="6 · Measurement error",
              hides=("mm_me_q_chart",)),
        Asked("mm_atten_q", "question-measurement-attenuation", view="6 · Measurement error"),
    ],
    ("pages/foundations.py", "foundations"): [
        Asked("fnd_levels_q", "question-levels", view="1 · What a multilevel model is"),
        Asked("fnd_identify_q", "question-identify", view="2 · Sources of variability"),
        Asked("fnd_serial_q", "question-serial", view="2 · Sources of variability",
              hides=("fnd_serial_chart", "fnd_residual_chart")),
        Asked("fnd_experiment_q", "question-experiment", view="3 · Where dependence comes from",
              hides=("fnd_rates_chart",)),
        Asked("fnd_reasons_q", "question-reasons", view="4 · Why take the structure in"),
        Asked("fnd_assume_q", "question-assumptions", view="5 · The course in summary"),
    ],
}
