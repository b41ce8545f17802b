// The heatmap overlay: the merchant's own storefront page with its heatmap
// drawn over it. The loader imports this module instead of the tracker when
// the page was opened from the admin's "View on storefront" link (its
// fragment holds an overlay token), so shoppers never download it and the
// merchant's own clicks here are never recorded. It fetches this page's
// heatmap for this window's device bucket, places every click inside the
// element it was made on (so it lands right on any layout), and redraws as
// the page scrolls and resizes; a toolbar picks the layers, the bucket, the
// range and the page group. `window.lummmenOverlay` tells tests what is drawn.

import { fetchHeatmap, heatmapUrl } from "./api.js";
import { draw } from "./draw.js";
import { bucketOf, groupOf, placeCells, placeMarkers, placePoints, rangeOf, scrollMarks } from "./geometry.js";
import { toolbar } from "./toolbar.js";

const EXPIRED = "This heatmap link has expired or is not valid: open it again from Lummmen in your Shopify admin "
  + "(Heatmap, View on storefront).";

/** An element's box in page coordinates, or null when it is not on this layout. */
function boxOf(selector) {
  let el = null;
  try {
    el = document.querySelector(selector);
  } catch {
    return null;
  }
  if (!el) return null;
  const r = el.getBoundingClientRect();
  if (!r.width && !r.height) return null;
  return { x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height };
}

/** Every layer of `map` placed on this page as it is laid out now. */
function place(map) {
  const doc = document.documentElement;
  const { points, missing, boxes } = placePoints(map.elements, boxOf);
  const grid = map.grid || {};
  const moves = map.moves || {};
  return {
    points,
    missing,
    markers: placeMarkers(map.elements, boxes),
    cells: placeCells(grid.cells, grid.cell, grid.width, doc.scrollWidth),
    moves: placeCells(moves.cells, moves.cell, grid.width, doc.scrollWidth),
    marks: scrollMarks(map.scroll, doc.scrollHeight),
  };
}

function summary(state, placed) {
  const m = state.map;
  const over = `on ${state.bucket} over the last ${state.days} days`;
  if (!m.clicks) return `No clicks ${over} yet.`;
  const parts = [`${m.clicks} ${m.clicks === 1 ? "click" : "clicks"} ${over}`];
  const n = placed.missing.length;
  if (n) parts.push(n === 1 ? "1 clicked element is not on this layout" : `${n} clicked elements are not on this layout`);
  if (placed.cells.length) parts.push("squares: clicks placed by position only");
  return parts.join(" · ");
}

/** Starts the overlay with the link's `token` and the embed's configuration (`endpoint`). */
export default function start(token, config) {
  const path = location.pathname;
  const group = groupOf(path);
  const state = {
    status: "loading",
    message: "Loading the heatmap…",
    bucket: bucketOf(innerWidth),
    pinned: false,
    days: 30,
    page: path,
    pages: [[path, "This page"], ...(group ? [[group, `All ${group.split("/")[1]}`]] : [])],
    layers: { clicks: true, moves: false, scroll: false, rage: true, dead: true },
    map: null,
    placed: null,
  };
  const url = heatmapUrl(config && config.endpoint);
  const canvas = document.createElement("canvas");
  canvas.id = "lummmen-overlay-canvas";
  // The viewport without its scrollbars (what `inset: 0` covers when fixed).
  canvas.style.cssText = "position:fixed;inset:0;width:100%;height:100%;pointer-events:none;z-index:2147483646";
  const host = document.createElement("div");
  host.id = "lummmen-overlay";
  document.body.append(canvas, host);
  let frame = 0;
  let seq = 0;
  let closed = false;
  const render = toolbar(host, { change, close });

  function redraw() {
    if (closed) return;
    const placed = state.status === "ready" && state.map ? place(state.map) : null;
    state.placed = placed;
    const doc = document.documentElement;
    const view = { width: doc.clientWidth, height: doc.clientHeight, scrollX, scrollY, dpr: devicePixelRatio || 1 };
    draw(canvas, view, state.layers, placed);
    if (placed) {
      const text = summary(state, placed);
      if (text !== state.message) {
        state.message = text;
        render(state);
      }
    }
  }

  function schedule() {
    if (!frame && !closed) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        redraw();
      });
    }
  }

  function show() {
    host.dataset.state = state.status;
    host.dataset.bucket = state.bucket;
    render(state);
    schedule();
  }

  async function load() {
    const mine = ++seq;
    Object.assign(state, { status: "loading", message: "Loading the heatmap…" });
    show();
    const r = await fetchHeatmap(url, token, state.page, state.bucket, rangeOf(state.days, Date.now()));
    if (mine !== seq) return; // a newer request is under way
    state.map = r.ok || null;
    if (r.unauthorized) Object.assign(state, { status: "unauthorized", message: EXPIRED });
    else if (r.error) Object.assign(state, { status: "error", message: `The heatmap could not be loaded: ${r.error}` });
    else state.status = "ready";
    show();
  }

  /** The merchant's (or a test's) choice: layers redraw, the rest fetches again. */
  function change(patch) {
    if (patch.layers) Object.assign(state.layers, patch.layers);
    const refetch = ["bucket", "days", "page"].some((k) => k in patch && patch[k] !== state[k]);
    if ("bucket" in patch) state.pinned = true;
    for (const k of ["bucket", "days", "page"]) if (k in patch) state[k] = patch[k];
    if (refetch) return load();
    show();
    return Promise.resolve();
  }

  function close() {
    closed = true;
    canvas.remove();
    host.remove();
  }

  addEventListener("scroll", schedule, { passive: true });
  addEventListener("load", schedule);
  addEventListener("resize", () => {
    // The window crossed into another bucket: its own clicks, unless the merchant chose one.
    if (!state.pinned && bucketOf(innerWidth) !== state.bucket) {
      state.bucket = bucketOf(innerWidth);
      load();
    }
    schedule();
  });
  // Late images, fonts and content move elements without a resize.
  new ResizeObserver(schedule).observe(document.documentElement);

  /** What is drawn now, layer by layer (nothing while there is no heatmap). */
  const drawn = () => {
    redraw();
    const p = state.placed;
    const on = (layer, list) => (p && state.layers[layer] ? list : []);
    return {
      points: on("clicks", p && p.points),
      cells: on("clicks", p && p.cells),
      moves: on("moves", p && p.moves),
      marks: on("scroll", p && p.marks),
      markers: p ? p.markers.filter((m) => state.layers[m.kind]) : [],
      missing: p ? p.missing : [],
    };
  };
  const ready = load();
  window.lummmenOverlay = {
    ready,
    state: () => ({ status: state.status, bucket: state.bucket, days: state.days, page: state.page,
      layers: { ...state.layers }, clicks: state.map ? state.map.clicks : null, message: state.message }),
    points: () => drawn().points.map((p) => ({ ...p })),
    cells: () => drawn().cells.map((c) => ({ ...c })),
    moves: () => drawn().moves.map((c) => ({ ...c })),
    scroll: () => drawn().marks.map((m) => ({ ...m })),
    markers: () => drawn().markers.map((m) => ({ ...m })),
    missing: () => [...drawn().missing],
    set: change,
    close,
  };
  return ready;
}
