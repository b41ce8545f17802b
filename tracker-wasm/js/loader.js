// Lummmen loader: the theme app embed's `javascript`. Finds the configuration (data
// attributes on this script or on #lummmen-config), then loads the wasm glue and
// module that sit next to this file. Kept tiny: theme check caps it at 10,000 bytes.
// A merchant's "View on storefront" link (#lummmen-heatmap=<token>) loads the
// heatmap overlay instead of the tracker, once the token is out of the address bar.
(() => {
  const me = document.currentScript;
  const el = me && me.dataset.siteId ? me : document.getElementById("lummmen-config");
  if (!el) return;
  const d = el.dataset;
  const base = (me && me.src) || location.href;
  const [here, token] = location.href.split("#lummmen-heatmap=");
  if (token) {
    history.replaceState(null, "", here);
    return import(new URL("lummmen-overlay.js", base).href).then((m) => m.default(token, d));
  }
  const glue = d.glue || new URL("lummmen-tracker.js", base).href;
  const wasm = d.wasm || new URL("lummmen-tracker.wasm", base).href;
  import(glue)
    .then((m) => m.default({ module_or_path: wasm }).then(() => m.boot(d.siteId || "", d.endpoint || "", d.sample || "")))
    .catch((e) => console.warn("lummmen: not started", e));
})();
