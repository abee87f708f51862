"""JSP: school effectiveness. Within and between schools, ranking with honest intervals,
separate vs multilevel slopes, and three levels."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from hlmlab import datasets, models, plots, plots_schools, report, schools
from hlmlab.lessons import load_lesson
from pages._widgets import (
    View,
    show_chart,
    show_code_tabs,
    show_diagnostics,
    show_fit_summary,
    show_lesson_section,
    show_question,
    show_source_note,
    show_views,
)

LESSON = load_lesson("jsp_schools")
EXAM_LABEL = "Exam (real: mlmRev::Exam, London schools)"
SAMPLE_SEED = 1988
DRAWN_SCHOOLS = 6
LEVEL1_VIEWS = ("Math across the years (one line per pupil)", "Math against Raven ability")
REGRESSIONS = {
    "jsp": ("School mean math on year (the deck's R²)", "Pupils' math on year",
            "Pupils' math on Raven ability (year 2)"),
    "exam": ("Pupils' exam score on the reading test",),
}
MODELS = ("Random intercept", "Random intercept and slope")
FAMILIES = {"Pooled": "pooled", "Per school": "per_group", "Multilevel": "multilevel"}


# --------------------------------------------------------------------------- cached work


def spec_of(label: str) -> schools.SchoolDataSpec:
    return schools.DATASETS["exam" if label == EXAM_LABEL else "jsp"]


@st.cache_data(show_spinner="Loading the data…", max_entries=16)
def load_source(label: str, path: str, stamp: float) -> pd.DataFrame:
    """The chosen data source; ``stamp`` (the file's mtime) makes an edited file reload."""
    if label == EXAM_LABEL:
        frame = datasets.load_reference("exam")
        frame.attrs.update(label="Exam (real pupils, mlmRev)", synthetic=False)
        return frame
    return datasets.load_jsp(label, Path(path).parent)


def year_rows(data: pd.DataFrame, spec, year: int | None) -> pd.DataFrame:
    if spec.occasion is None or year is None:
        return data
    rows = data[data[spec.occasion] == year]
    rows.attrs = dict(data.attrs)
    return rows


@st.cache_data(show_spinner="Fitting a line per school…", max_entries=64)
def level2(label: str, path: str, stamp: float, regression: str):
    data, spec = load_source(label, path, stamp), spec_of(label)
    if spec.key == "exam":
        rows, fit = schools.per_school_regressions(data, spec.outcome, spec.intake, spec.group)
        predictor = spec.intake
    elif regression == REGRESSIONS["jsp"][2]:
        rows, fit = schools.per_school_regressions(year_rows(data, spec, 2), spec.outcome,
                                                   spec.intake, spec.group)
        predictor = spec.intake
    else:
        on_means = regression == REGRESSIONS["jsp"][0]
        rows, fit = schools.per_school_regressions(data, spec.outcome, spec.occasion, spec.group,
                                                   on_school_means=on_means)
        predictor = spec.occasion
    x = rows[predictor].astype(float)
    ranges = {"all": (float(x.min()), float(x.max()))}
    lines = models.fitted_lines({"per_group": fit}, ranges)
    return rows, fit, lines, predictor, schools.coefficient_spread(fit)


@st.cache_data(show_spinner="Fitting pooled, per-school and multilevel lines…", max_entries=64)
def pooling(label: str, path: str, stamp: float, random_slope: bool):
    data, spec = load_source(label, path, stamp), spec_of(label)
    predictor = spec.intake if spec.key == "exam" else spec.occasion
    return models.compare_pooling(data, spec.outcome, predictor, spec.group, random_slope), predictor


@st.cache_data(show_spinner="Fitting the school-effects models…", max_entries=256)
def ranking(label: str, path: str, stamp: float, year: int | None, random_slope: bool):
    data, spec = load_source(label, path, stamp), spec_of(label)
    rows = year_rows(data, spec, year)
    raw = rows.groupby(spec.group)[spec.outcome].mean()
    adjusted = schools.fit_ranking_model(rows, spec.outcome, spec.group, spec.intake, random_slope)
    unadjusted = schools.fit_ranking_model(rows, spec.outcome, spec.group, None)
    out = {}
    for name, fit in (("adjusted", adjusted), ("unadjusted", unadjusted)):
        table = schools.rank_schools(fit, raw) if fit.usable else None
        out[name] = (fit, table)
    changes = None
    if out["adjusted"][1] is not None and out["unadjusted"][1] is not None:
        changes = schools.rank_changes(out["adjusted"][1], out["unadjusted"][1])
    return out, changes


@st.cache_data(show_spinner="Fitting separate and multilevel slopes…", max_entries=2048)
def separate(label: str, path: str, stamp: float, n_schools: int, per_school: int):
    """JSP: growth (math on year) of whole pupils; Exam: exam score on the reading test.
    Returns ``(comparison, slope pairs, predictor, error)``."""
    data, spec = load_source(label, path, stamp), spec_of(label)
    predictor = spec.occasion or spec.intake
    chosen = schools.sample_schools(data, spec.group, n_schools, per_school, seed=SAMPLE_SEED,
                                    subgroup=spec.subgroup)
    try:
        comparison = models.compare_pooling(chosen, spec.outcome, predictor, spec.group, True)
    except models.ModelDataError as exc:
        return None, None, predictor, str(exc)
    return comparison, schools.slope_pairs(comparison), predictor, ""


@st.cache_resource(show_spinner=False, max_entries=2048)
def separate_figure(label: str, path: str, stamp: float, n_schools: int, per_school: int):
    comparison, pairs, predictor, _ = separate(label, path, stamp, n_schools, per_school)
    fit = comparison.multilevel
    return plots_schools.slope_scatter_figure(
        pairs, f"Each school's slope: own OLS vs multilevel · {load_source(label, path, stamp).attrs.get('label', label)}",
        "Separate OLS slope", "Multilevel slope",
        fit.fixed[predictor] if fit is not None and fit.usable else None)


@st.cache_data(show_spinner="Fitting the three-level model and the two two-level models…",
               max_entries=16)
def levels(label: str, path: str, stamp: float, reml: bool, with_intake: bool):
    data, spec = load_source(label, path, stamp), spec_of(label)
    try:
        return schools.compare_levels(data, spec.outcome, spec.group, spec.subgroup,
                                      spec.occasion, (spec.intake,) if with_intake else (),
                                      reml), ""
    except models.ModelDataError as exc:
        return None, str(exc)


# Figures are shared as objects (cache_resource): a dict would be validated again by
# st.plotly_chart on every rerun, as costly as building the figure (about 0.1 s).
@st.cache_resource(show_spinner=False, max_entries=512)
def level1_figure(label: str, path: str, stamp: float, school, mode: str):
    """One school's figure (cached: redraws send it without rebuilding)."""
    data, spec = load_source(label, path, stamp), spec_of(label)
    title_label = data.attrs.get("label", label)
    rows = data[data[spec.group] == school]
    if spec.occasion is not None and mode == LEVEL1_VIEWS[0]:
        figure = plots_schools.pupil_trajectories_figure(
            rows, spec.subgroup, spec.occasion, spec.outcome,
            f"School {school}: each pupil's math over the years · {title_label}",
            spec.occasion_label, spec.outcome_label)
        return figure, (f"{title_label}. {rows[spec.subgroup].nunique()} pupils, "
                                  f"{len(rows)} scores.")
    years = spec.occasion is not None
    rows = rows.assign(occasion=[f"year {y}" for y in rows[spec.occasion]] if years
                       else "all pupils")
    styles = plots.group_styles(["year 0", "year 1", "year 2"] if years else ["all pupils"])
    fit = models.fit_per_group(rows, spec.outcome, spec.intake, "occasion")
    x = rows[spec.intake].astype(float)
    lines = models.fitted_lines({"per_group": fit}, {"all": (float(x.min()), float(x.max()))})
    figure = plots.lines_figure(
        rows, spec.outcome, spec.intake, "occasion", lines, styles,
        title=f"School {school}: score against intake · {title_label}",
        x_title=spec.intake_label, y_title=spec.outcome_label)
    caption = (f"{title_label}. Lines: ordinary least squares "
               + ("in each year of this school." if years else "in this school.")
               + "".join(f" {m}" for m in fit.messages))
    return plots_schools.light(figure), caption


@st.cache_resource(show_spinner=False, max_entries=1024)
def pooling_figure(label: str, path: str, stamp: float, random_slope: bool, drawn: int,
                   families: tuple):
    data, spec = load_source(label, path, stamp), spec_of(label)
    comparison, predictor = pooling(label, path, stamp, random_slope)
    school_ids = sorted(data[spec.group].unique().tolist())
    shown = school_ids[:drawn]
    lines = comparison.lines
    lines = lines[lines["family"].isin([FAMILIES[f] for f in families])
                  & (lines["group"].isin(shown) | (lines["family"] == "pooled"))]
    figure = plots.lines_figure(
        data[data[spec.group].isin(shown)], spec.outcome, predictor, spec.group, lines,
        plots.group_styles(school_ids), jitter=0.15 if predictor == spec.occasion else 0.0,
        title=f"Pooled, per-school and multilevel lines · {data.attrs.get('label', label)}",
        x_title=X_TITLES.get(predictor, predictor), y_title=spec.outcome_label)
    return plots_schools.light(figure)


@st.cache_resource(show_spinner=False, max_entries=512)
def ranking_figures(label: str, path: str, stamp: float, year, random_slope: bool, adjust: bool):
    data, spec = load_source(label, path, stamp), spec_of(label)
    title_label = data.attrs.get("label", label)
    fits, changes = ranking(label, path, stamp, year, random_slope)
    table = fits["adjusted" if adjust else "unadjusted"][1]
    if table is None:
        return None, None
    which = "adjusted for intake" if adjust else "not adjusted"
    outcome_words = spec.outcome_label + (f", year {year}" if year is not None else "")
    movers = changes.index[:3].tolist() if changes is not None else []
    caterpillar = plots_schools.caterpillar_figure(
        table, f"School effects, {which}, 95% intervals · {title_label}",
        f"School effect on {outcome_words}")
    slope = plots_schools.rank_slope_figure(
        table["naive_rank"], table["rank"], f"Raw mean vs model · {title_label}",
        "by raw mean", f"model, {which}", highlight=movers)
    return caterpillar, slope


X_TITLES = {"year": "Junior school year", "raven": schools.DATASETS["jsp"].intake_label,
            "standLRT": schools.DATASETS["exam"].intake_label}


# --------------------------------------------------------------------------- page setup

st.title("JSP: school effectiveness")
show_lesson_section(LESSON["intro"])

sources = {label: str(path) for label, path in datasets.jsp_sources().items()}
sources[EXAM_LABEL] = ""
source_label = st.selectbox("Data", list(sources), key="jsp_source")


def open_source(label):
    path = sources[label]
    stamp = Path(path).stat().st_mtime if path else 0.0
    return label, path, stamp, load_source(label, path, stamp)


try:
    source_label, source_path, stamp, data = open_source(source_label)
except (ValueError, OSError) as exc:
    st.error(f"That file could not be used: {exc} Showing the synthetic replica instead.")
    source_label, source_path, stamp, data = open_source(datasets.JSP_REPLICA_LABEL)
KEY = (source_label, source_path, stamp)
SPEC = spec_of(source_label)
# Controls whose options depend on the data get a key per source, so switching sources never
# carries a value that the new data do not have.
SUFFIX = {datasets.JSP_REPLICA_LABEL: "replica", EXAM_LABEL: "exam"}.get(source_label, "original")
LABEL = data.attrs.get("label", source_label)
show_source_note(data, LESSON["replica-note"].body)
SCHOOL_IDS = sorted(data[SPEC.group].unique().tolist())


# --------------------------------------------------------------------------- 1. level 1


@st.fragment
def view_level1():
    show_lesson_section(LESSON["level1"])
    c1, c2 = st.columns([1, 2])
    school = c1.selectbox("School", SCHOOL_IDS, key=f"jsp_level1_school_{SUFFIX}")
    mode = LEVEL1_VIEWS[1]
    if SPEC.occasion is not None:
        mode = c2.radio("Show", LEVEL1_VIEWS, key="jsp_level1_view", horizontal=True)
    figure, caption = level1_figure(*KEY, school, mode)
    show_chart(figure, "jsp_level1_chart")
    st.caption(caption)


# --------------------------------------------------------------------------- 2. level 2


@st.fragment
def view_level2():
    show_lesson_section(LESSON["level2"])
    regression = st.radio("Regression per school", REGRESSIONS[SPEC.key], key=f"jsp_level2_regression_{SUFFIX}",
                          horizontal=True)
    rows, fit, lines, predictor, spread = level2(*KEY, regression)
    on_means = regression == REGRESSIONS["jsp"][0]
    summary = schools.r2_summary(fit.table["r2"])
    left, right = st.columns([3, 2])
    with left:
        points = rows if on_means else None
        show_chart(plots_schools.school_lines_figure(
            lines, f"{regression}: one line per school · {LABEL}", X_TITLES.get(predictor, predictor),
            ("Mean " if on_means else "") + SPEC.outcome_label, points=points, x=predictor,
            y=SPEC.outcome, group=SPEC.group), "jsp_level2_lines")
    with right:
        show_chart(plots_schools.r2_histogram(fit.table["r2"], schools.R2_BAND,
                                         f"R² of each school's line · {LABEL}"), "jsp_level2_r2")
        m1, m2, m3 = st.columns(3)
        m1.metric("Schools with R² in .6-.9", f"{summary['in_band']} of {summary['n']}")
        m2.metric("Median R²", f"{summary['quantiles']['q50']:.2f}")
        m3.metric("Middle half", f"{summary['quantiles']['q25']:.2f}-{summary['quantiles']['q75']:.2f}")
    st.markdown("**Spread of the schools' own lines**")
    st.dataframe(spread, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.2f") for c in spread})
    skipped = int(fit.table["r2"].isna().sum())
    st.caption(f"{LABEL}. " + (f"{skipped} school(s) have no R²: a line through two points "
                               "fits exactly, so it says nothing. " if skipped else "")
               + "R² is that of each school's own OLS line.")
    show_question(LESSON["question-r2"], key="jsp_level2_q")


# --------------------------------------------------------------------------- 3. pooling


@st.fragment
def view_pooling():
    show_lesson_section(LESSON["pooling"])
    c1, c2 = st.columns([2, 3])
    model = c1.radio("Multilevel model", MODELS, index=1, key="jsp_pool_model", horizontal=True)
    families = c2.pills("Lines", list(FAMILIES), selection_mode="multi", default=list(FAMILIES),
                        key="jsp_pool_families") or []
    comparison, predictor = pooling(*KEY, model == MODELS[1])
    left, right = st.columns([3, 2])
    with left:
        pooling_chart_panel(model == MODELS[1], tuple(families), predictor)
    fit = comparison.multilevel
    with right:
        show_fit_summary(comparison)
    if fit is not None and fit.usable:
        st.dataframe(report.fixed_effects_table(fit, comparison.pooled), width="stretch")
        show_code_tabs(fit)


@st.fragment
def pooling_chart_panel(random_slope: bool, families: tuple, predictor: str):
    """The drawn schools change only the chart: their slider reruns this panel alone."""
    drawn = st.slider("Schools drawn (all are fitted)", 1, len(SCHOOL_IDS),
                      min(DRAWN_SCHOOLS, len(SCHOOL_IDS)), key=f"jsp_pool_drawn_{SUFFIX}")
    show_chart(pooling_figure(*KEY, random_slope, drawn, families), "jsp_pool_chart")
    st.caption(f"{LABEL}. The first {drawn} schools are drawn"
               + (", years jittered sideways for display" if predictor == SPEC.occasion else "")
               + "; every line is fitted to all schools.")


# --------------------------------------------------------------------------- 4. ranking


@st.fragment
def view_ranking():
    show_lesson_section(LESSON["ranking"])
    c1, c2, c3 = st.columns(3)
    year = None
    if SPEC.occasion is not None:
        year = c1.selectbox("Math score of year", (2, 1, 0), key="jsp_rank_year",
                            help="Year 2 is the end of junior school; Raven was measured at entry.")
    adjust = c2.toggle(f"Adjust for intake ({SPEC.intake_label})", value=True,
                       key="jsp_rank_adjust")
    random_slope = c3.toggle("Intake slope varies by school", value=SPEC.key == "exam",
                             key=f"jsp_rank_slope_{SUFFIX}", disabled=not adjust)
    fits, changes = ranking(*KEY, year, random_slope)
    fit, table = fits["adjusted" if adjust else "unadjusted"]
    show_diagnostics(fit.messages)
    if table is None:
        st.warning("This model's fit is not trustworthy, so no ranking is drawn from it.")
        return
    summary = schools.ranking_summary(table)
    m = st.columns(4)
    m[0].metric("Schools", summary["schools"])
    m[1].metric("Intervals overlapping the average", summary["overlap_average"])
    m[2].metric("Clearly above / below", f"{summary['above']} / {summary['below']}")
    m[3].metric("Typical range of a rank", f"{summary['median_rank_span']:.0f} places")
    caterpillar, slope = ranking_figures(*KEY, year, random_slope, adjust)
    left, right = st.columns([3, 2])
    with left:
        show_chart(caterpillar, "jsp_rank_caterpillar")
    with right:
        show_chart(slope, "jsp_rank_slope")
    if changes is not None:
        st.markdown("**Schools that move most when the intake adjustment is added**")
        st.dataframe(changes.head(8).rename(columns={
            "rank_unadjusted": "rank, not adjusted", "rank_adjusted": "rank, adjusted",
            "change": "places moved up", "moved": "places moved"}), width="stretch")
    shown = table[["n", "raw_mean", "naive_rank", "effect", "lower", "upper", "rank", "rank_low",
                   "rank_high"]].rename(columns={
        "raw_mean": "raw mean", "naive_rank": "rank by raw mean", "effect": "effect (mode)",
        "lower": "95% lower", "upper": "95% upper", "rank_low": "rank range from",
        "rank_high": "rank range to"})
    with st.expander("Every school: effect, interval, rank and plausible rank range",
                     icon=":material/table:"):
        st.dataframe(shown, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.2f")
                                    for c in ("raw mean", "effect (mode)", "95% lower", "95% upper")})
    st.caption(f"{LABEL}. Effects are lme4-style conditional modes ± 1.96 conditional SDs; rank "
               "ranges are the central 95% of each school's rank over 2000 draws of all school "
               "effects (seeded).")
    st.markdown("**The model behind the ranking**")
    c1, c2 = st.columns([2, 3])
    with c1:
        st.dataframe(report.variance_table(fit)[["shown"]], width="stretch",
                     column_config={"shown": "value"})
    with c2:
        st.latex(report.model_latex(fit))
        st.dataframe(report.fixed_effects_table(fit), width="stretch")
    show_code_tabs(fit)
    show_question(LESSON["question-rank"], key="jsp_rank_q")


# --------------------------------------------------------------------------- 5. separate


@st.fragment
def view_separate():
    show_lesson_section(LESSON["separate"])
    sizes = (data.groupby(SPEC.group)[SPEC.subgroup].nunique() if SPEC.subgroup
             else data.groupby(SPEC.group).size())
    c1, c2 = st.columns(2)
    n_schools = c1.slider("Schools kept (a seeded random choice)", 2, len(sizes), len(sizes),
                          key=f"jsp_sep_schools_{SUFFIX}")
    per_school = c2.slider("Pupils per school (at most; a seeded random subsample)", 2,
                           int(sizes.max()), int(sizes.max()), key=f"jsp_sep_pupils_{SUFFIX}")
    comparison, pairs, predictor, error = separate(*KEY, n_schools, per_school)
    if comparison is None:
        st.warning(f"No fit: {error}")
        return
    fit = comparison.multilevel
    if comparison.error:
        st.warning(f"No multilevel fit: {comparison.error}")
    elif fit is not None:
        show_diagnostics(fit.messages)
    predictor_words = X_TITLES.get(predictor, predictor).lower()
    outcome_words = SPEC.outcome_label
    left, right = st.columns([3, 2])
    with left:
        show_chart(separate_figure(*KEY, n_schools, per_school), "jsp_sep_chart")
    with right:
        if len(pairs):
            st.metric("Median |multilevel − own slope|", f"{pairs['gap'].abs().median():.3f}")
            st.metric("Spread (SD) of own slopes / multilevel slopes",
                      f"{pairs['ols_slope'].std():.3f} / {pairs['multilevel_slope'].std():.3f}")
        else:
            st.info("No school has a slope of its own here (a line needs three records with two "
                    "different values of the predictor), so there is nothing to compare.")
        st.caption(f"{LABEL}. {outcome_words} against {predictor_words}; "
                   f"{len(comparison.per_group.table)} schools, at most {per_school} pupils each"
                   + (" (all of a pupil's years)" if SPEC.subgroup else "") + ". "
                   "The multilevel model has a random intercept and slope.")
        for message in comparison.per_group.messages:
            st.caption(str(message))


# --------------------------------------------------------------------------- 6. three levels


@st.fragment
def view_levels():
    show_lesson_section(LESSON["levels"])
    if SPEC.subgroup is None:
        st.info(LESSON["needs-jsp"].body, icon=":material/info:")
        return
    c1, c2 = st.columns(2)
    reml = c1.radio("Estimation", ("REML", "ML"), horizontal=True, key="jsp_levels_method") == "REML"
    with_intake = c2.toggle(f"Add {SPEC.intake_label} as a covariate", key="jsp_levels_intake")
    comparison, error = levels(*KEY, reml, with_intake)
    if comparison is None:
        st.warning(f"No fit: {error}")
        return
    three = comparison.three_level
    for fit in (three, comparison.ignore_school, comparison.ignore_pupil):
        show_diagnostics(fit.messages)
    left, right = st.columns([3, 2])
    with left:
        show_chart(plots_schools.variance_partition_figure(
            comparison.partition, f"Where the variance lies · {LABEL}"), "jsp_levels_chart")
    with right:
        st.markdown("**The three-level model**")
        shown = pd.DataFrame({
            "value": [three.variance[SPEC.group], three.variance[SPEC.subgroup],
                      three.variance["residual"], three.loglik, three.n_obs,
                      three.n_subgroups, three.n_groups]},
            index=["school variance", "pupil variance", "occasion (residual) variance",
                   ("REML " if reml else "") + "log-likelihood", "records", "pupils", "schools"])
        shown["shown"] = [f"{v:,.4f}" if i < 4 else f"{int(v):,d}"
                          for i, v in enumerate(shown["value"])]
        st.dataframe(shown[["shown"]], width="stretch", column_config={"shown": "value"})
        fixed = pd.DataFrame({"estimate": three.fixed, "SE": three.fixed_se})
        st.dataframe(fixed, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.4f") for c in fixed})
    table = comparison.table
    term = comparison.occasion_terms[-1]
    se = table[f"{term} SE"]
    st.markdown(f"**What ignoring a level does to the year effect ({term})**")
    m = st.columns(3)
    base = se.iloc[0]
    for column, (model, value) in zip(m, list(se.items())[1:]):
        column.metric(model, f"SE {value:.3f}", f"{value / base:.2f} × the three-level SE",
                      delta_color="off")
    st.dataframe(table, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table})
    st.caption(f"{LABEL}. Standard errors are lme4-style (fixed-effects block); the OLS row's "
               "variance is the residual variance of one regression.")
    show_code_tabs(three)
    show_question(LESSON["question-levels"], key="jsp_levels_q")


show_views([
    View("1 · Within one school", view_level1, "jsp_level1_"),
    View("2 · Between schools", view_level2, "jsp_level2_"),
    View("3 · Three kinds of lines", view_pooling, "jsp_pool_"),
    View("4 · Ranking schools", view_ranking, "jsp_rank_"),
    View("5 · When separate lines are fine", view_separate, "jsp_sep_"),
    View("6 · Three levels", view_levels, "jsp_levels_"),
], key="jsp_view")
