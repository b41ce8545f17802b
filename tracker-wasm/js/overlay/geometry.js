// The overlay's arithmetic, pure: which device bucket a width is in, and where
// each part of a heatmap (the JSON of GET /api/heatmap) lands on this page, in
// page coordinates (CSS pixels from the document's top-left corner).

/** The API's device buckets, by viewport width: under 768 px, under 1024, above. */
export const BUCKETS = ["mobile", "tablet", "desktop"];

export function bucketOf(width) {
  return width < 768 ? "mobile" : width < 1024 ? "tablet" : "desktop";
}

/** `/products/*` for a product page (likewise collections), or null: the group the API also answers. */
export function groupOf(path) {
  const m = /^\/(products|collections)\/[^/]+\/?$/.exec(path);
  return m ? `/${m[1]}/*` : null;
}

/** The last `days` days up to `now`, in milliseconds, as the API takes them. */
export function rangeOf(days, now) {
  return { from: now - days * 86400000, to: now };
}

/**
 * Each click point inside its element's box on this page: `boxOf(selector)`
 * answers `{x, y, w, h}` in page coordinates, or null when the element is not
 * on this layout (absent, or hidden at this width). Answers the points, the
 * selectors not found, and the element boxes used.
 */
export function placePoints(elements, boxOf) {
  const points = [];
  const missing = [];
  const boxes = new Map();
  for (const e of elements || []) {
    const box = boxOf(e.selector);
    if (!box) {
      missing.push(e.selector);
      continue;
    }
    boxes.set(e.selector, box);
    for (const p of e.points || []) {
      points.push({ selector: e.selector, x: box.x + p.rx * box.w, y: box.y + p.ry * box.h, count: p.count });
    }
  }
  return { points, missing, boxes };
}

/**
 * Rage and dead clicks per element found on this page, for markers on its box.
 */
export function placeMarkers(elements, boxes) {
  const out = [];
  for (const e of elements || []) {
    const box = boxes.get(e.selector);
    if (!box) continue;
    if (e.rage) out.push({ selector: e.selector, kind: "rage", count: e.rage, ...box });
    if (e.dead) out.push({ selector: e.selector, kind: "dead", count: e.dead, ...box });
  }
  return out;
}

/**
 * Grid cells (clicks without a position in an element, and mouse moves) as
 * page rectangles. They were recorded on pages `width` wide: on a page of
 * another width they are stretched across, an approximation for fluid layouts.
 */
export function placeCells(cells, cell, width, pageWidth) {
  const sx = width > 0 ? pageWidth / width : 1;
  return (cells || []).map((c) => ({ x: c.col * cell * sx, y: c.row * cell, w: cell * sx, h: cell, count: c.count }));
}

/**
 * Scroll depth: for each tenth of the page, where it is on this page and the
 * share of page views that scrolled at least that far.
 */
export function scrollMarks(scroll, pageHeight) {
  if (!scroll || !scroll.pageviews) return [];
  return (scroll.reached || []).map((n, i) => ({
    pct: (i + 1) * 10,
    y: ((i + 1) / 10) * pageHeight,
    share: n / scroll.pageviews,
  }));
}

/** Largest count, at least 1. */
export function maxCount(items) {
  return items.reduce((m, i) => Math.max(m, i.count), 1);
}
