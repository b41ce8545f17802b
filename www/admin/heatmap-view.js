// The heatmap view: a page (or a group of pages, `/products/*`) of
// `GET /api/heatmap/pages`, a device bucket and a range; then, from
// `GET /api/heatmap`, the elements shoppers click most (with their rage and
// dead clicks), the scroll-depth curve, and the clicks that have no element
// to be placed on, drawn by position on a page of the bucket's width. "View on
// storefront" opens the page itself with the heatmap over it (overlay-link.js).
// `#heatmap[data-state]` is "loading", "ready", "empty" or "error", with the
// choice in `data-page`, `data-bucket` and `data-days`.

import { api } from "/admin/api.js";
import { fillTable } from "/admin/breakdowns.js";
import { number } from "/admin/format.js";
import { draw } from "/admin/heatmap.js";
import { onView } from "/admin/nav.js";
import { openOverlay, pageToOpen } from "/admin/overlay-link.js";
import { drawScroll, followScrollWidth } from "/admin/scroll-chart.js";

const $ = (id) => document.getElementById(id);
const view = { page: "", bucket: "desktop", days: 30, pages: [], groups: [], asked: 0, scrollChart: null };
let shared = null;

function say(text, kind) {
  const el = $("heatmap-summary");
  el.textContent = text;
  el.className = kind || "muted";
}

function setState(state) {
  const root = $("heatmap");
  root.dataset.state = state;
  root.dataset.page = view.page;
  root.dataset.bucket = view.bucket;
  root.dataset.days = view.days;
  root.setAttribute("aria-busy", String(state === "loading"));
}

function mark() {
  for (const b of document.querySelectorAll("#heatmap-bucket [data-bucket]")) {
    b.setAttribute("aria-pressed", String(b.dataset.bucket === view.bucket));
  }
  for (const b of document.querySelectorAll("#heatmap-range [data-days]")) {
    b.setAttribute("aria-pressed", String(Number(b.dataset.days) === view.days));
  }
  $("heatmap-view").disabled = !view.page || !pageToOpen(view.page, view.pages);
}

/** The `/api/heatmap` address of the current choice, the range ending now. */
export function heatmapPath({ page, bucket, days }, now = Date.now()) {
  const q = new URLSearchParams({ page, bucket, from: now - days * 86400000, to: now, mode: "all" });
  return `/api/heatmap?${q}`;
}

/** "1 click", "2 views". */
function counted(n, one, many) {
  return `${number(n)} ${n === 1 ? one : many}`;
}

function clicks(n) {
  return counted(n, "click", "clicks");
}

/** A page nobody clicked on still has its scroll depth: it shows its views. */
function option(p) {
  const what = p.clicks || !p.views ? clicks(p.clicks) : counted(p.views, "view", "views");
  return new Option(`${p.page} (${what})`, p.page);
}

/** Fills the page picker from `/api/heatmap/pages`: groups first, then pages, most clicked first. */
export async function loadPages() {
  const { pages = [], groups = [] } = await api("GET", "/api/heatmap/pages");
  Object.assign(view, { pages, groups });
  const select = $("heatmap-page");
  const parts = [];
  if (groups.length) {
    const g = document.createElement("optgroup");
    g.label = "Groups of pages";
    g.append(...groups.map(option));
    parts.push(g);
  }
  if (pages.length) {
    const g = document.createElement("optgroup");
    g.label = "Pages";
    g.append(...pages.map(option));
    parts.push(g);
  }
  select.replaceChildren(...parts);
  const all = [...pages, ...groups].map((p) => p.page);
  view.page = all.includes(view.page) ? view.page : (pages[0] || groups[0] || { page: "" }).page;
  select.value = view.page;
  mark();
  return all.length;
}

function renderElements(map) {
  const top = Math.max(1, ...map.elements.map((e) => e.clicks));
  const rows = [...map.elements].sort((a, b) => b.clicks - a.clicks).map((e) => ({
    key: e.selector,
    share: e.clicks / top,
    cells: [[e.selector], [number(e.clicks), e.clicks], [number(e.rage), e.rage], [number(e.dead), e.dead]],
  }));
  fillTable($("heatmap-elements"), rows, "No clicks on an element in this range.");
}

/** The clicks without an element, by position, at the bucket's page width. */
function renderGrid(map) {
  const grid = map.grid || { cell: 20, width: 0, height: 0, cells: [] };
  const wrap = $("heatmap-canvas").parentElement;
  const n = grid.cells.reduce((s, c) => s + c.count, 0);
  $("heatmap-grid-note").textContent = n
    ? `${clicks(n)} without an element to place them on, on ${view.bucket} pages ${number(grid.width)} px wide.`
    : "Every click of this range was placed on the element it was made on.";
  wrap.hidden = !n;
  // The card's inner width; while the view is hidden, the page's.
  const card = $("heatmap-grid").clientWidth || document.querySelector("main").clientWidth;
  const width = Math.max(200, card - 48);
  shared.layout = n ? draw($("heatmap-canvas"), grid, Math.min(grid.width, width)) : null;
}

function render(map) {
  shared.heatmap = map;
  const over = `on ${view.bucket} in the last ${view.days} days`;
  say(map.clicks ? `${clicks(map.clicks)} ${over}.` : `No clicks ${over}.`);
  renderElements(map);
  view.scrollChart = drawScroll($("scroll-chart"), map.scroll, view.scrollChart);
  shared.scrollChart = view.scrollChart;
  renderGrid(map);
  setState("ready");
  document.documentElement.dataset.heatmap = "drawn";
}

/** Asks for the current choice and shows it; an older answer arriving late is dropped. */
export async function showHeatmap() {
  if (!view.page) {
    say("No clicks recorded yet: once shoppers who consent click on your storefront, their pages show here.");
    $("heatmap-body").hidden = true;
    setState("empty");
    return;
  }
  $("heatmap-body").hidden = false;
  const asked = ++view.asked;
  setState("loading");
  try {
    const map = await api("GET", heatmapPath(view));
    if (asked === view.asked) render(map);
  } catch (e) {
    if (asked !== view.asked) return;
    say(`The heatmap could not be loaded: ${e.message}`, "error");
    setState("error");
  }
}

/** Reloads the pages, then the heatmap. */
export async function refreshHeatmap() {
  await loadPages();
  await showHeatmap();
}

async function viewOnStorefront() {
  const page = pageToOpen(view.page, view.pages);
  if (!page) return;
  const button = $("heatmap-view");
  button.disabled = true;
  try {
    const link = await openOverlay(page);
    const a = $("overlay-link");
    a.href = link.url;
    a.textContent = `Open ${page} with its heatmap`;
    $("overlay-note").hidden = false;
  } catch (e) {
    say(`The storefront could not be opened: ${e.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

function choose(patch) {
  Object.assign(view, patch);
  mark();
  showHeatmap();
}

/** Wires the controls; `state` (the admin page's) gets `heatmap`, `layout` and `scrollChart`. */
export function initHeatmap(state) {
  shared = state;
  $("heatmap-page").onchange = (e) => choose({ page: e.target.value });
  for (const b of document.querySelectorAll("#heatmap-bucket [data-bucket]")) {
    b.onclick = () => choose({ bucket: b.dataset.bucket });
  }
  for (const b of document.querySelectorAll("#heatmap-range [data-days]")) {
    b.onclick = () => choose({ days: Number(b.dataset.days) });
  }
  $("heatmap-view").onclick = viewOnStorefront;
  $("heatmap-refresh").onclick = () => refreshHeatmap().catch((e) => say(e.message, "error"));
  followScrollWidth($("scroll-chart"), () => view.scrollChart);
  onView((name) => {
    if (name === "heatmap" && shared.heatmap && $("heatmap").dataset.state === "ready") renderGrid(shared.heatmap);
  });
  mark();
  return view;
}
