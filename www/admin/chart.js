// The dashboard's daily chart, drawn by uPlot (served by the backend from npm's
// `uplot`, loaded as the global `uPlot` before this module): visitors and page
// views as lines on the left axis, orders as bars on the right one. Days are
// placed by their index, labelled with the API's own dates, so a daylight
// saving change or the browser's clock never shifts a day.

import { dayLabel } from "/admin/range.js";
import { number } from "/admin/format.js";

export const COLOURS = { visitors: "#4f46e5", pageviews: "#0ea5e9", orders: "#f59e0b" };
/** Whole steps only: these are counts. */
const INCREMENTS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 25e3, 5e4, 1e5,
  2e5, 25e4, 5e5, 1e6, 2e6, 5e6, 1e7];
const HEIGHT = 260;

/** From zero to a little over the top, so lines never touch the frame. */
function fromZero(_u, _min, max) {
  return [0, max > 0 ? max * 1.12 : 4];
}

function options(days, width) {
  const axis = { stroke: "#6b7280", grid: { stroke: "#eef0f3", width: 1 }, ticks: { show: false },
    font: "12px system-ui, sans-serif" };
  const many = days.length > 45;
  return {
    width,
    height: HEIGHT,
    padding: [12, 8, 0, 0],
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: { time: false, range: [-0.5, days.length - 0.5] },
      count: { range: fromZero },
      orders: { range: (u, min, max) => [0, Math.max(4, max * 1.6)] },
    },
    axes: [
      { ...axis, grid: { show: false }, space: 56, incrs: [1, 2, 7, 14, 28, 56, 91],
        values: (_u, splits) => splits.map((i) => (Number.isInteger(i) && days[i] ? dayLabel(days[i].date) : "")) },
      { ...axis, scale: "count", incrs: INCREMENTS, size: 48, values: (_u, splits) => splits.map(number) },
      { ...axis, scale: "orders", side: 1, grid: { show: false }, incrs: INCREMENTS, size: 40,
        values: (_u, splits) => splits.map(number) },
    ],
    series: [
      { label: "Day", value: (_u, i) => (i == null || !days[i] ? "–" : dayLabel(days[i].date, true)) },
      { label: "Orders", scale: "orders", stroke: COLOURS.orders, fill: "rgba(245, 158, 11, 0.4)", width: 0,
        paths: uPlot.paths.bars({ size: [0.55, 36] }), points: { show: false }, value: (_u, v) => (v == null ? "–" : number(v)) },
      { label: "Visitors", scale: "count", stroke: COLOURS.visitors, width: 2.5, fill: "rgba(79, 70, 229, 0.08)",
        points: { show: !many, size: 6 }, value: (_u, v) => (v == null ? "–" : number(v)) },
      { label: "Page views", scale: "count", stroke: COLOURS.pageviews, width: 2,
        points: { show: !many, size: 5 }, value: (_u, v) => (v == null ? "–" : number(v)) },
    ],
  };
}

function data(days) {
  return [days.map((_d, i) => i), days.map((d) => d.orders), days.map((d) => d.visitors),
    days.map((d) => d.pageviews)];
}

/**
 * Draws `days` (the API's `days`) in `el`, replacing any chart there, and
 * follows the element's width. Answers the uPlot instance, or null with a
 * note in `el` when the library did not load.
 */
export function drawDaily(el, days, previous) {
  if (previous) previous.destroy();
  el.replaceChildren();
  el.dataset.days = days.length;
  if (typeof window.uPlot !== "function") {
    el.textContent = "The chart could not be drawn: its library did not load.";
    el.dataset.drawn = "no";
    return null;
  }
  const chart = new uPlot(options(days, Math.max(280, el.clientWidth)), data(days), el);
  el.dataset.drawn = "yes";
  return chart;
}

/** Keeps a chart as wide as its element (the admin iframe and windows resize). */
export function followWidth(el, getChart) {
  new ResizeObserver(() => {
    const chart = getChart();
    const width = Math.max(280, el.clientWidth);
    if (chart && el.clientWidth && chart.width !== width) chart.setSize({ width, height: HEIGHT });
  }).observe(el);
}
