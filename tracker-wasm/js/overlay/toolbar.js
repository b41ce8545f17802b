// The overlay's toolbar: which layers to draw, the device bucket, the range,
// this page or its group, and what the overlay has to say. In a shadow root,
// so the theme's styles and the toolbar's leave each other alone.

const LAYERS = [["clicks", "Clicks"], ["moves", "Moves"], ["scroll", "Scroll depth"], ["rage", "Rage"], ["dead", "Dead"]];

const CSS = `
.bar { position: fixed; right: 12px; bottom: 12px; z-index: 2147483647; max-width: calc(100vw - 24px);
  box-sizing: border-box; padding: 10px 12px; background: #fff; color: #111827; border-radius: 10px;
  box-shadow: 0 6px 24px rgba(0,0,0,.25); font: 13px/1.4 system-ui, sans-serif; }
header { display: flex; align-items: center; gap: 8px; margin-bottom: 6px; }
header b { flex: 1; }
.bar.min .layers, .bar.min .row, .bar.min p { display: none; }
.bar.min header { margin: 0; }
button { border: 0; background: none; font: inherit; font-size: 18px; line-height: 1; cursor: pointer; color: #6b7280; }
.layers, .row { display: flex; flex-wrap: wrap; gap: 4px 10px; margin: 4px 0; }
label { display: inline-flex; align-items: center; gap: 3px; cursor: pointer; }
select { font: inherit; padding: 2px 4px; border: 1px solid #d1d5db; border-radius: 6px; background: #fff; color: inherit; }
p { margin: 6px 0 0; color: #4b5563; max-width: 34em; }
.bar[data-state="unauthorized"] p, .bar[data-state="error"] p { color: #b91c1c; font-weight: 600; }
.bar[data-state="unauthorized"] .layers, .bar[data-state="unauthorized"] .row { display: none; }
`;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, attrs);
  e.append(...children);
  return e;
}

function select(name, options) {
  const s = el("select", { name });
  s.dataset.control = name;
  s.append(...options.map(([value, text]) => el("option", { value, textContent: text })));
  return s;
}

/**
 * Builds the toolbar in `host`'s shadow root; `on.change(patch)` hears the
 * merchant's choices, `on.close()` the close button. Answers `render(state)`.
 */
export function toolbar(host, on) {
  const root = host.attachShadow({ mode: "open" });
  const boxes = LAYERS.map(([key, text]) => {
    const box = el("input", { type: "checkbox" });
    box.dataset.layer = key;
    box.onchange = () => on.change({ layers: { [key]: box.checked } });
    return [key, box, el("label", {}, box, text)];
  });
  const bucket = select("bucket", [["mobile", "Mobile"], ["tablet", "Tablet"], ["desktop", "Desktop"]]);
  const days = select("days", [["7", "Last 7 days"], ["30", "Last 30 days"]]);
  const page = select("page", []);
  bucket.onchange = () => on.change({ bucket: bucket.value, pinned: true });
  days.onchange = () => on.change({ days: Number(days.value) });
  page.onchange = () => on.change({ page: page.value });
  const close = el("button", { type: "button", title: "Close the heatmap", textContent: "×" });
  close.onclick = on.close;
  // Folds the toolbar away from the page on small screens.
  const fold = el("button", { type: "button", title: "Fold the toolbar", textContent: "–" });
  fold.onclick = () => {
    const min = bar.classList.toggle("min");
    fold.textContent = min ? "+" : "–";
    fold.title = min ? "Unfold the toolbar" : "Fold the toolbar";
  };
  const status = el("p", { role: "status" });
  const bar = el("div", { className: "bar" },
    el("header", {}, el("b", { textContent: "Lummmen heatmap" }), fold, close),
    el("div", { className: "layers" }, ...boxes.map((b) => b[2])),
    el("div", { className: "row" }, bucket, days, page),
    status);
  root.append(el("style", { textContent: CSS }), bar);

  return (state) => {
    bar.dataset.state = state.status;
    for (const [key, box] of boxes) box.checked = !!state.layers[key];
    bucket.value = state.bucket;
    days.value = String(state.days);
    page.replaceChildren(...state.pages.map(([value, text]) => el("option", { value, textContent: text })));
    page.value = state.page;
    page.hidden = state.pages.length < 2;
    status.textContent = state.message;
  };
}
