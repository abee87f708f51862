// HLM Lab's chart element (ui/chart.py, show_chart): one plotly chart that stays
// mounted across reruns and is updated in place with Plotly.react.
//
// Why not st.plotly_chart: its element id hashes the figure, so every new figure remounts
// the chart, and a remounted chart is drawn twice: once hidden at plotly's default width,
// then again at the measured column width. Both draws are full redraws (110-250 ms each for
// the JSP chart on these machines). Here a slider press costs one Plotly.react on the
// chart that is already on screen, at the width it already has.
//
// Streamlit calls the default export on mount and again whenever `data` changes;
// `data` = the bytes of the JSON {script: URL of plotly.min.js, scale: presenter mode's
// enlargement (1 otherwise), figure: plotly figure} (bytes: the server sends a prepared
// figure without encoding it again).

// As st.plotly_chart had it: no plotly logo, no cloud buttons, no box or lasso selection
// (nothing here reads a selection).
const CONFIG = {
  displaylogo: false,
  responsive: true,
  showSendToCloud: false,
  showEditInChartStudio: false,
  modeBarButtonsToRemove: ["sendDataToCloud", "editInChartStudio", "select2d", "lasso2d"],
};
// One load per page, shared by every chart and by the early preload (app.py's sidebar asks
// for plotly.js before the lesson's script has fitted anything).
function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  const pending = window.__hlmlabPlotly;
  if (pending && pending.url === url) return pending.promise;
  const promise = new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => (window.Plotly ? resolve(window.Plotly)
                                         : reject(new Error("plotly.js did not load")));
    script.onerror = () => {
      delete window.__hlmlabPlotly;  // a later render may try again
      reject(new Error(`could not load ${url}`));
    };
    document.head.appendChild(script);
  });
  window.__hlmlabPlotly = {url, promise};
  return promise;
}

// Presenter mode (ui/presenter.py): every font size, marker size, line width and margin of
// the figure times `scale`, on a copy (the figure JSON is shared and cached as it is). Data
// arrays are not walked: only style objects can hold these sizes.
const DATA_KEYS = new Set(["x", "y", "z", "customdata", "text", "hovertext", "ids", "meta",
                           "hovertemplate", "texttemplate", "tickvals", "ticktext", "range",
                           "labels", "values", "parents", "base"]);

function times(value, scale) {
  if (typeof value === "number") return value * scale;
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) {
    return value.map((v) => v * scale);
  }
  return value;  // a typed-array payload ({dtype, bdata}) or anything else: as it is
}

function scaled(value, scale, parent = "") {
  if (Array.isArray(value)) return value.map((item) => scaled(item, scale, parent));
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    if (DATA_KEYS.has(key)) out[key] = item;
    else if (key === "size" && (parent.endsWith("font") || parent === "marker")) {
      out[key] = times(item, scale);
    } else if ((key === "width" && parent === "line") || (key === "thickness" &&
               parent.startsWith("error_"))) {
      out[key] = times(item, scale);
    } else if (parent === "margin" && ["l", "r", "t", "b"].includes(key)) {
      out[key] = times(item, scale);
    } else out[key] = scaled(item, scale, key);
  }
  return out;
}

// Room above the chart in full screen: without it the title's first line was cut off.
const FULL_SCREEN_TOP = 16;

function fullScreenSize() {
  return {width: window.innerWidth, height: window.innerHeight - FULL_SCREEN_TOP};
}

function fullScreenButton(root) {
  return {
    name: "Full screen",
    title: "Full screen (Esc to leave)",
    icon: {width: 512, height: 512,
           path: "M0 0h192v64H64v128H0zM320 0h192v192h-64V64H320zM0 320h64v128h128v64H0zM448 320h64v192H320v-64h128z"},
    click: () => (document.fullscreenElement ? document.exitFullscreen()
                                             : root.requestFullscreen()),
  };
}

// Long titles ran off the right edge of a half-width column (plotly does not wrap them):
// after each draw, a title wider than the chart is set in a smaller font until it fits.
function fitTitle(gd, smallest = 12) {
  const svg = gd.querySelector(".main-svg");
  if (!svg) return;
  const right = svg.getBoundingClientRect().right - 8;
  for (const text of gd.querySelectorAll(".gtitle, .gtitle-subtitle")) {
    const box = text.getBoundingClientRect();
    if (box.right <= right || box.width === 0) continue;
    const size = parseFloat(text.style.fontSize) || 16;
    text.style.fontSize = `${Math.max(smallest, Math.floor(size * (right - box.left) / box.width))}px`;
  }
}

// Draw the newest figure; figures that arrive while a draw runs are coalesced, so a
// dragged slider draws only what is current when plotly is free again.
function draw(root) {
  if (root.__busy || !root.__next) return;
  const {figure, script} = root.__next;
  root.__next = null;
  root.__busy = true;
  root.dataset.drawing = "true";
  const gd = root.querySelector(".hlm-chart-plot");
  loadPlotly(script)
    .then((Plotly) => {
      // One config object per chart: plotly.js compares configs by identity of their
      // functions, and a "changed" config turns the update into a full replot.
      root.__config = root.__config || {...CONFIG, modeBarButtonsToAdd: [fullScreenButton(root)]};
      const layout = {...figure.layout};
      if (document.fullscreenElement === root) Object.assign(layout, fullScreenSize());
      return Plotly.react(gd, figure.data, layout, root.__config);
    })
    .then(() => {
      if (!root.__fitsTitle) {  // from now on after every draw, resizes included
        gd.on("plotly_afterplot", () => fitTitle(gd, root.__smallestTitle));
        root.__fitsTitle = true;
        fitTitle(gd, root.__smallestTitle);
      }
      root.querySelector(".hlm-chart-error").textContent = "";
    })
    .catch((error) => {
      root.querySelector(".hlm-chart-error").textContent =
        `This chart could not be drawn (${error.message}). Reload the page to try again.`;
    })
    .finally(() => {
      root.__busy = false;
      if (root.__next) draw(root);
      else delete root.dataset.drawing;
    });
}

function build(parentElement) {
  const root = document.createElement("div");
  root.className = "hlm-chart";
  root.dataset.testid = "hlmChart";
  root.style.background = "white";
  // The chart lays itself out alone: plotly.js measures text while it draws, and each
  // measurement would otherwise lay out the whole page around it again.
  root.style.contain = "layout paint style";
  const gd = document.createElement("div");
  gd.className = "hlm-chart-plot";
  const error = document.createElement("div");
  error.className = "hlm-chart-error";
  error.setAttribute("role", "alert");
  error.style.color = "#b00020";
  root.append(error, gd);
  parentElement.appendChild(root);
  // The column's width can change without a window resize (the sidebar opens or closes):
  // follow the container, not only the window.
  root.__resize = new ResizeObserver(() => {
    if (root.__source && Math.abs(narrowScale(root, root.__source) - root.__narrow) > 0.02) {
      present(root);  // a narrow figure's text follows the new width
      return;
    }
    const layout = gd._fullLayout;
    if (window.Plotly && layout && Math.abs(layout.width - gd.clientWidth) > 1 && !root.__busy) {
      window.Plotly.Plots.resize(gd);
    }
  });
  root.__resize.observe(root);
  root.__cleanup = () => {  // unmounted: the next mount starts from a new element
    root.__resize.disconnect();
    if (window.Plotly) window.Plotly.purge(gd);
    root.remove();
  };
  root.addEventListener("fullscreenchange", () => {
    if (!window.Plotly || !gd._fullLayout) return;
    if (document.fullscreenElement === root) {
      root.style.paddingTop = `${FULL_SCREEN_TOP}px`;
      window.Plotly.relayout(gd, fullScreenSize());
    } else {
      root.style.paddingTop = "";
      window.Plotly.relayout(gd, {width: null, height: root.__height});
    }
  });
  return root;
}

// A figure may ask for smaller text on a narrow chart (a phone): layout.meta.narrow =
// {width, min_scale, layout} scales its fonts, line widths and margins by the chart's width
// over `width`, but never below `min_scale`, and applies `layout` (optional) to a chart
// narrower than `width` (hlmlab.style.narrow_text). Diagrams need it most: their boxes and
// arrows are drawn in data units and shrink with the chart, their text does not.
function narrowScale(root, figure) {
  const narrow = figure && figure.layout && figure.layout.meta && figure.layout.meta.narrow;
  const width = root.clientWidth;
  if (!narrow || !width) return 1;
  return Math.max(narrow.min_scale || 0.5, Math.min(1, width / narrow.width));
}

// The figure to draw: the source figure with presenter mode's and a narrow chart's scales.
function present(root) {
  const presenter = root.__presenter;
  root.__narrow = narrowScale(root, root.__source);
  const scale = presenter * root.__narrow;
  let figure = root.__source;
  // A title too wide for its column shrinks, but in presenter mode not below the size
  // of the scaled tick labels' floor, and it may then start at the chart's left edge
  // instead of the plot's (the y-axis margin is room it needs more than the axis).
  root.__smallestTitle = presenter > 1 ? 18 : 12;
  const narrowLayout = root.__narrow < 1 && figure && figure.layout.meta.narrow.layout;
  if (figure && (scale !== 1 || narrowLayout)) {
    const layout = scaled(figure.layout, scale);
    // A narrow chart's own layout changes (a side legend moved below the plot), merged
    // one level deep into the figure's.
    for (const [key, value] of Object.entries(narrowLayout || {})) {
      layout[key] = value && typeof value === "object" && !Array.isArray(value)
        ? {...layout[key], ...value} : value;
    }
    if (presenter > 1 && layout.title && layout.title.text) {
      layout.title = {...layout.title, xref: "container", x: 0.01};
    }
    figure = {...figure, data: scaled(figure.data, scale), layout};
  }
  root.__height = figure.layout.height || 450;
  // Keep the chart's space while plotly.js loads, so the page below does not jump.
  root.querySelector(".hlm-chart-plot").style.minHeight = `${root.__height}px`;
  root.__next = {figure, script: root.__script};
  draw(root);
}

const DECODER = new TextDecoder();

export default function ({data, parentElement}) {
  const text = typeof data === "string" ? data : DECODER.decode(data);
  const existing = parentElement.querySelector(".hlm-chart");
  // Every rerun sends the bytes again (a new array each time): the same figure is not
  // parsed or handed to plotly.js again.
  if (existing && existing.__text === text) return existing.__cleanup;
  const payload = JSON.parse(text);
  const root = existing || build(parentElement);
  root.__text = text;
  root.__source = payload.figure;
  root.__presenter = payload.scale || 1;
  root.__script = payload.script;
  present(root);
  return root.__cleanup;
}
