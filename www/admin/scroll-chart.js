// The heatmap view's scroll-depth curve, drawn by uPlot (loaded as the global
// `uPlot`, as for the dashboard's chart): for each tenth of the page, the
// share of page views that scrolled at least that far.

import { percent } from "/admin/format.js";

const HEIGHT = 220;

/** `[[10, 20, ..., 100], [shares in %]]` of the API's `scroll`, or null without page views. */
export function scrollSeries(scroll) {
  if (!scroll || !scroll.pageviews) return null;
  const depths = scroll.reached.map((_n, i) => (i + 1) * 10);
  return [depths, scroll.reached.map((n) => (100 * n) / scroll.pageviews)];
}

function options(width) {
  const axis = { stroke: "#6b7280", grid: { stroke: "#eef0f3", width: 1 }, ticks: { show: false },
    font: "12px system-ui, sans-serif" };
  return {
    width,
    height: HEIGHT,
    padding: [12, 22, 0, 0],
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: false, range: [10, 100] }, y: { range: [0, 100] } },
    axes: [
      { ...axis, grid: { show: false }, incrs: [10, 20], values: (_u, splits) => splits.map((v) => `${v}%`) },
      { ...axis, size: 48, incrs: [25, 50], values: (_u, splits) => splits.map((v) => `${v}%`) },
    ],
    series: [
      { label: "Depth", value: (_u, v) => (v == null ? "–" : `${v}% of the page`) },
      { label: "Page views reaching it", stroke: "#4f46e5", width: 2.5, fill: "rgba(79, 70, 229, 0.12)",
        points: { show: true, size: 6 }, value: (_u, v) => (v == null ? "–" : percent(v / 100)) },
    ],
  };
}

/**
 * Draws `scroll` in `el`, replacing `previous`; answers the uPlot instance, or
 * null with a note in `el` when there is nothing to draw or no library.
 */
export function drawScroll(el, scroll, previous) {
  if (previous) previous.destroy();
  el.replaceChildren();
  const data = scrollSeries(scroll);
  el.dataset.pageviews = scroll ? scroll.pageviews : 0;
  if (!data) {
    el.textContent = "No page views with a scroll depth in this range.";
    el.dataset.drawn = "no";
    return null;
  }
  if (typeof window.uPlot !== "function") {
    el.textContent = "The chart could not be drawn: its library did not load.";
    el.dataset.drawn = "no";
    return null;
  }
  const chart = new uPlot(options(Math.max(280, el.clientWidth || 420)), data, el);
  el.dataset.drawn = "yes";
  return chart;
}

/** Keeps the chart as wide as its element. */
export function followScrollWidth(el, getChart) {
  new ResizeObserver(() => {
    const chart = getChart();
    const width = Math.max(280, el.clientWidth);
    if (chart && el.clientWidth && chart.width !== width) chart.setSize({ width, height: HEIGHT });
  }).observe(el);
}
