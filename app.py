"""HLM Lab: the entry point. Page setup, navigation over pages/, and the shared sidebar."""

import streamlit as st

from ui import controls
from ui.chart import preload_chart_library
from ui.keys import keyboard_steps
from ui.presenter import presenter_switch
from ui.process import prepare_process
from ui.script_runs import page_run
from ui.share import share_button, share_dialog_if_asked

st.set_page_config(page_title="HLM Lab", page_icon="📈", layout="wide")
prepare_process()

PAGES = [
    st.Page("pages/home.py", title="Welcome", icon=":material/home:", default=True),
    st.Page("pages/nels88_two_schools.py", title="NELS88: two schools", icon=":material/scatter_plot:"),
    st.Page("pages/jsp_schools.py", title="JSP: school effectiveness", icon=":material/school:"),
    st.Page("pages/why_multilevel.py", title="Why multilevel?", icon=":material/groups:"),
    st.Page("pages/longitudinal.py", title="Longitudinal: reading and age", icon=":material/trending_up:"),
    st.Page("pages/macro_micro.py", title="Macro and micro", icon=":material/account_tree:"),
    st.Page("pages/your_data.py", title="Your data", icon=":material/upload_file:"),
]
navigation = st.navigation(PAGES)
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
