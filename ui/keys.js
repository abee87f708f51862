// HLM Lab's keyboard stepper (ui/keys.py): in presenter mode a clicker's keys move the
// lesson's steps or tabs. Right / PageDown: the next one; Left / PageUp: the one before.
//
// Clickers send exactly these keys. Up and Down are left to the browser (they scroll).
// A key pressed while typing in a field, or on a control that uses it itself (a slider's
// thumb moves with the arrows, tabs and radios move their selection), or with a modifier
// (browser shortcuts), is ignored. PageUp / PageDown would scroll the page as well: their
// default is prevented, so the view does not jump while the step changes.
//
// One listener per document: a rerun that draws the element again replaces the listener
// (and the setter it calls) instead of adding a second one.
//
// While the next step is being drawn the page keeps at least its present height: the new
// tab's content arrives in parts, and a page that is briefly shorter than the scroll
// position is scrolled back by the browser, to the top. Once the app has been idle for a
// moment (script state "notRunning") the page's own height returns, at the same scroll
// position if the new step is tall enough.

const KEYS = {ArrowRight: "next", PageDown: "next", ArrowLeft: "previous", PageUp: "previous"};
const OWN_KEYS = 'input, textarea, select, [contenteditable=""], [contenteditable="true"], ' +
                 '[role="slider"], [role="tab"], [role="radio"], [role="option"], ' +
                 '[role="combobox"], [role="listbox"], [role="spinbutton"], [role="textbox"]';

function holdHeight() {
  const app = document.querySelector('[data-testid="stApp"]');
  const main = document.querySelector('[data-testid="stMain"]');
  const block = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!app || !main || !block) return;
  if (block.__hlmlabHold) block.__hlmlabHold.release();
  const top = main.scrollTop;
  block.style.minHeight = `${block.getBoundingClientRect().height}px`;
  let pending = null;
  const hold = {
    release() {
      observer.disconnect();
      clearTimeout(pending);
      clearTimeout(safety);
      block.style.minHeight = "";
      delete block.__hlmlabHold;
      // The page may have been scrolled back while it was briefly short: put it back where
      // it was, if the new step is tall enough to be there.
      if (main.scrollTop !== top && main.scrollHeight >= top + main.clientHeight) {
        main.scrollTop = top;
      }
    },
  };
  // A step can take more than one run (the new value is sent back, a fragment reruns):
  // let go once the app has been idle for a moment, not at the first idle instant.
  const observer = new MutationObserver(() => {
    clearTimeout(pending);
    if (app.getAttribute("data-test-script-state") === "notRunning") {
      pending = setTimeout(() => hold.release(), 700);
    }
  });
  observer.observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
  const safety = setTimeout(() => hold.release(), 30000);  // never stuck
  block.__hlmlabHold = hold;
}

export default function ({setTriggerValue}) {
  const previous = window.__hlmlabKeys;
  if (previous) document.removeEventListener("keydown", previous, true);
  const listener = (event) => {
    const direction = KEYS[event.key];
    if (!direction || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const target = event.target instanceof Element ? event.target : null;
    if (target && target.closest(OWN_KEYS)) return;
    event.preventDefault();  // no scroll: the step changes, the view stays where it is
    if (event.repeat) return;  // a held key moves one step, not a burst of reruns
    holdHeight();
    setTriggerValue(direction, true);
  };
  window.__hlmlabKeys = listener;
  document.addEventListener("keydown", listener, true);
  return () => {  // presenter mode is off: the keys are the browser's again
    document.removeEventListener("keydown", listener, true);
    if (window.__hlmlabKeys === listener) delete window.__hlmlabKeys;
  };
}
