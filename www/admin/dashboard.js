// The dashboard view: the range picker, `GET /api/stats` for the range in the
// browser's time zone, and its states. `#dashboard[data-state]` is "loading",
// "ready", "empty" or "error"; `data-from` and `data-to` name the range shown.
// An answer that arrives after a newer request was made is dropped.

import { api } from "/admin/api.js";
import { drawDaily, followWidth } from "/admin/chart.js";
import { renderFunnel, renderTables } from "/admin/breakdowns.js";
import { customRangeProblem, dayCount, isoDate, presetRange, rangeLabel, timeZone } from "/admin/range.js";
import { renderTiles } from "/admin/tiles.js";

const $ = (id) => document.getElementById(id);
const view = { preset: "7d", range: presetRange("7d"), stats: null, chart: null, asked: 0 };

/** The `/api/stats` address of a range. */
export function statsPath({ from, to }, tz = timeZone()) {
  const q = new URLSearchParams({ from, to, tz });
  return `/api/stats?${q}`;
}

/** Whether a range has nothing to show: no visitor, no order, not even Shopify's. */
function isEmpty(s) {
  return !s.visitors && !s.pageviews && !s.orders && !s.shopifyOrders.orders;
}

function setState(state, message) {
  const root = $("dashboard");
  root.dataset.state = state;
  root.setAttribute("aria-busy", String(state === "loading"));
  const box = $("dash-message");
  box.hidden = !message;
  box.className = `card message ${state}`;
  box.replaceChildren(...(message || []));
}

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function emptyMessage() {
  const hint = el("p", "Shoppers who consent to analytics show up here within a minute of their visit, once tracking " +
    "is enabled and Lummmen's app embed is on in your theme. ", "muted");
  const link = el("a", "Set up tracking");
  link.href = "#project";
  link.dataset.view = "project";
  hint.append(link, " or pick a longer range.");
  return [el("h3", "No visitors in this range yet"), hint];
}

/** "the range is over 400 days" → "The range is over 400 days." */
function sentence(text) {
  const s = String(text).trim();
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

/** Why the figures are missing; a range the server refused asks for another, anything else offers a retry. */
function errorMessage(e) {
  const parts = [el("h3", "The figures could not be loaded"), el("p", sentence(e.message), "detail")];
  if (e.status === 400) {
    parts.push(el("p", "Pick another range above.", "muted"));
  } else {
    const retry = el("button", "Try again");
    retry.type = "button";
    retry.onclick = () => load();
    parts.push(retry);
  }
  return parts;
}

function markPresets() {
  for (const b of document.querySelectorAll("#dashboard [data-preset]")) {
    b.setAttribute("aria-pressed", String(b.dataset.preset === view.preset));
  }
}

function showRange(stats) {
  $("range-label").textContent = rangeLabel(stats.from, stats.to);
  const days = dayCount(stats.from, stats.to);
  $("compare-label").textContent =
    `· compared with the ${days === 1 ? "day" : `${days} days`} before (${rangeLabel(stats.previous.from, stats.previous.to)})`;
}

function render(stats) {
  const root = $("dashboard");
  view.stats = stats;
  root.dataset.from = stats.from;
  root.dataset.to = stats.to;
  showRange(stats);
  if (isEmpty(stats)) {
    setState("empty", emptyMessage());
    return;
  }
  renderTiles(root, stats);
  view.chart = drawDaily($("daily-chart"), stats.days, view.chart);
  renderFunnel($("funnel"), $("funnel-overall"), stats.funnel);
  renderTables(root, stats);
  setState("ready");
}

/** Asks for the current range and shows the answer (or why there is none). */
export async function load() {
  const asked = ++view.asked;
  if (view.preset !== "custom") view.range = presetRange(view.preset);
  const { from, to } = view.range;
  $("range-label").textContent = rangeLabel(from, to);
  $("compare-label").textContent = "· loading…";
  setState("loading");
  try {
    const stats = await api("GET", statsPath(view.range));
    if (asked === view.asked) render(stats);
  } catch (e) {
    if (asked === view.asked) setState("error", errorMessage(e));
  }
}

function choosePreset(name) {
  const form = $("custom-range");
  if (name === "custom") {
    form.hidden = false;
    $("range-from").value = view.range.from;
    $("range-to").value = view.range.to;
    $("range-from").focus();
    return;
  }
  form.hidden = true;
  view.preset = name;
  view.range = presetRange(name);
  markPresets();
  load();
}

function applyCustom(event) {
  event.preventDefault();
  const from = $("range-from").value;
  const to = $("range-to").value;
  const problem = customRangeProblem(from, to);
  $("range-problem").textContent = problem || "";
  if (problem) return;
  view.preset = "custom";
  view.range = { from, to };
  markPresets();
  load();
}

/** Wires the range picker; the first load is `load()`'s. */
export function initDashboard() {
  for (const b of document.querySelectorAll("#dashboard [data-preset]")) {
    b.onclick = () => choosePreset(b.dataset.preset);
  }
  $("custom-range").onsubmit = applyCustom;
  const today = isoDate(new Date());
  $("range-from").max = today;
  $("range-to").max = today;
  markPresets();
  followWidth($("daily-chart"), () => view.chart);
  return view;
}
