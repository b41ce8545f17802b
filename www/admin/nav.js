// The page's views (dashboard, heatmap, privacy requests, settings): one shown
// at a time, picked with the tabs and kept in the URL's fragment (`#heatmap`),
// so a reload or a link opens the same view. The dashboard comes first.

const VIEWS = ["dashboard", "heatmap", "tickets", "project"];
const listeners = [];

/** The view named by the fragment, or the dashboard. */
function fromHash() {
  const name = location.hash.slice(1);
  return VIEWS.includes(name) ? name : VIEWS[0];
}

/** Shows `name`'s view, marks its tab, and tells the listeners. */
export function showView(name) {
  if (!VIEWS.includes(name)) return;
  for (const view of VIEWS) document.getElementById(view).hidden = view !== name;
  for (const tab of document.querySelectorAll(".tabs a[data-view]")) {
    if (tab.dataset.view === name) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  document.documentElement.dataset.shown = name;
  for (const f of listeners) f(name);
}

/** Calls `f(name)` whenever a view is shown. */
export function onView(f) {
  listeners.push(f);
}

/**
 * Wires every `[data-view]` link: a click shows its view and records it in
 * the fragment without the jump a plain anchor would make.
 */
export function initNav() {
  document.addEventListener("click", (e) => {
    const link = e.target.closest && e.target.closest("a[data-view]");
    if (!link) return;
    e.preventDefault();
    history.replaceState(null, "", `#${link.dataset.view}`);
    showView(link.dataset.view);
  });
  window.addEventListener("hashchange", () => showView(fromHash()));
  showView(fromHash());
}
