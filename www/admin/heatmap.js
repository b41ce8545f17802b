// Draws clicks by position (the `grid` of GET /api/heatmap: the clicks that
// have no element to be placed on) on a canvas over the page's dimensions, at
// most the bucket's page width. Pure apart from the canvas it is given.

/** Canvas width for a page this wide: the page scaled down to fit `maxWidth`. */
export function layout(map, maxWidth = 800, maxHeight = 8000) {
  const width = Math.max(map.width, 1);
  const height = Math.max(map.height, 1);
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { scale, width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Heat colour for a share of the hottest cell (0 to 1): yellow to red. */
export function heatColour(share) {
  const s = Math.max(0, Math.min(1, share));
  const green = Math.round(220 * (1 - s));
  return `rgb(255, ${green}, 0)`;
}

/** The page background: pale grey, so any heat stands out from it. */
export const BACKGROUND = "rgb(243, 244, 246)";

/**
 * Draws `map` on `canvas`; returns the layout, so callers can map page
 * coordinates to canvas pixels (`x * scale`).
 */
export function draw(canvas, map, maxWidth) {
  const box = layout(map, maxWidth);
  canvas.width = box.width;
  canvas.height = box.height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, box.width, box.height);
  const max = map.cells.reduce((m, c) => Math.max(m, c.count), 0);
  if (!max) return box;
  const side = map.cell * box.scale;
  // A soft glow first, so isolated clicks are visible at small scales...
  for (const c of map.cells) {
    const cx = (c.col + 0.5) * side;
    const cy = (c.row + 0.5) * side;
    const r = Math.max(14, side * 4);
    const glow = ctx.createRadialGradient(cx, cy, 0, cx, cy, r);
    glow.addColorStop(0, "rgba(255, 120, 0, 0.4)");
    glow.addColorStop(1, "rgba(255, 120, 0, 0)");
    ctx.fillStyle = glow;
    ctx.fillRect(cx - r, cy - r, 2 * r, 2 * r);
  }
  // ...then every cell in its heat colour, at least 3 px so it shows.
  for (const c of map.cells) {
    const s = Math.max(side, 3);
    ctx.fillStyle = heatColour(0.35 + 0.65 * (c.count / max));
    ctx.fillRect(c.col * side + (side - s) / 2, c.row * side + (side - s) / 2, s, s);
  }
  return box;
}
