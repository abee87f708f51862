"""HLM Lab: the entry point. Page setup, navigation over pages/, and the shared sidebar."""

import streamlit as st

from hlmlab.course_map import course_page_order, sidebar_order
from ui import controls
from ui.chart import preload_chart_library
from ui.keys import keyboard_steps
from ui.presenter import presenter_switch
from ui.process import prepare_process
from ui.script_runs import page_run
from ui.share import share_button, share_dialog_if_asked

st.set_page_config(page_title="HLM Lab", page_icon="📈", layout="wide")
prepare_process()

# One line per page, keyed by its file's stem, in any order: the sidebar follows the course
# deck (lessons/course_map.md, hlmlab.course_map.sidebar_order), then "Your data" and the
# glossary.
PAGES = {
    "home": st.Page("pages/home.py", title="Welcome: the course map", icon=":material/home:",
                    default=True),
    "foundations": st.Page("pages/foundations.py", title="Foundations", icon=":material/foundation:"),
    "why_multilevel": st.Page("pages/why_multilevel.py", title="Why multilevel?", icon=":material/groups:"),
    "nels88_two_schools": st.Page("pages/nels88_two_schools.py", title="NELS88: two schools", icon=":material/scatter_plot:"),
    "jsp_schools": st.Page("pages/jsp_schools.py", title="JSP: school effectiveness", icon=":material/school:"),
    "longitudinal": st.Page("pages/longitudinal.py", title="Longitudinal: reading and age", icon=":material/trending_up:"),
    "macro_micro": st.Page("pages/macro_micro.py", title="Macro and micro", icon=":material/account_tree:"),
    "your_data": st.Page("pages/your_data.py", title="Your data", icon=":material/upload_file:"),
    "glossary": st.Page("pages/glossary.py", title="Glossary", icon=":material/menu_book:"),
}
navigation = st.navigation([PAGES[stem] for stem in sidebar_order(PAGES, course_page_order())])
controls.start_run()  # the share link and the keyboard stepper learn this run's controls

with st.sidebar:
    st.markdown("**HLM Lab** · hierarchical linear models, refitted live")
    presenting = presenter_switch()
    share_button()
    if presenting:
        keyboard_steps()
    st.caption(
        "Multilevel estimates are found on lme4's profiled deviance and checked against lme4; "
        "statsmodels MixedLM, refitted from them, confirms them (on the boundary, where "
        "its likelihood is not defined, lme4's deviance alone decides). "
        "Data marked 'synthetic replica' are simulated to match published figures."
    )
    preload_chart_library()

with page_run():  # counts the page as running (the prefetcher waits) and marks it as framed
    navigation.run()
    share_dialog_if_asked(navigation.url_path, presenting)
