// Draws the placed heatmap (see geometry.js) on a canvas fixed over the
// viewport: page coordinates shifted by the scroll, so only what is in view is
// drawn and the canvas stays the window's size on pages of any length.

import { maxCount } from "./geometry.js";

/** Heat from a share of the largest count: yellow (little) to red (most). */
export function heat(share, alpha) {
  return `hsla(${Math.round(55 * (1 - Math.min(1, share)))}, 100%, 50%, ${alpha})`;
}

function clicks(ctx, points) {
  const max = maxCount(points);
  for (const p of points) {
    const s = p.count / max;
    const r = 14 + 12 * s;
    const g = ctx.createRadialGradient(p.x, p.y, 0, p.x, p.y, r);
    g.addColorStop(0, heat(s, 0.85));
    g.addColorStop(1, heat(s, 0));
    ctx.fillStyle = g;
    ctx.fillRect(p.x - r, p.y - r, 2 * r, 2 * r);
  }
  // The exact spots on top of the glow.
  for (const p of points) {
    ctx.fillStyle = heat(p.count / max, 1);
    ctx.beginPath();
    ctx.arc(p.x, p.y, 3.5, 0, 7);
    ctx.fill();
  }
}

function cells(ctx, list, colour) {
  const max = maxCount(list);
  for (const c of list) {
    ctx.fillStyle = colour(c.count / max);
    ctx.fillRect(c.x, c.y, c.w, c.h);
  }
}

function label(ctx, text, x, y, background) {
  ctx.font = "600 12px system-ui, sans-serif";
  const w = ctx.measureText(text).width + 10;
  ctx.fillStyle = background;
  ctx.fillRect(x - w, y - 9, w, 18);
  ctx.fillStyle = "#fff";
  ctx.fillText(text, x - w + 5, y + 4);
}

function scroll(ctx, marks, width) {
  let top = 0;
  for (const m of marks) {
    // Darker where fewer shoppers got to.
    ctx.fillStyle = `rgba(17, 24, 39, ${(0.45 * (1 - m.share)).toFixed(3)})`;
    ctx.fillRect(0, top, width, m.y - top);
    top = m.y;
  }
  ctx.setLineDash([6, 4]);
  ctx.strokeStyle = "rgba(79, 70, 229, 0.9)";
  ctx.lineWidth = 1.5;
  for (const m of marks) {
    ctx.beginPath();
    ctx.moveTo(0, m.y);
    ctx.lineTo(width, m.y);
    ctx.stroke();
    label(ctx, `${Math.round(m.share * 100)}% reach ${m.pct}%`, width - 8, m.y - 11, "rgba(79, 70, 229, 0.95)");
  }
  ctx.setLineDash([]);
}

function markers(ctx, list) {
  for (const m of list) {
    const rage = m.kind === "rage";
    ctx.setLineDash(rage ? [] : [5, 4]);
    ctx.strokeStyle = rage ? "#dc2626" : "#4b5563";
    ctx.lineWidth = 2;
    // Dead outside rage, so an element with both shows both.
    const pad = rage ? 2 : 5;
    ctx.strokeRect(m.x - pad, m.y - pad, m.w + 2 * pad, m.h + 2 * pad);
    ctx.setLineDash([]);
    label(ctx, `${rage ? "rage" : "dead"} ${m.count}`, m.x + m.w + pad, rage ? m.y - 12 : m.y + m.h + 14,
      rage ? "#dc2626" : "#4b5563");
  }
}

/**
 * Draws the shown layers of `placed` on `canvas`, sized to the viewport
 * (`view`: `{width, height, scrollX, scrollY, dpr}`).
 */
export function draw(canvas, view, layers, placed) {
  const w = Math.round(view.width * view.dpr);
  const h = Math.round(view.height * view.dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (!placed) return;
  ctx.setTransform(view.dpr, 0, 0, view.dpr, -view.scrollX * view.dpr, -view.scrollY * view.dpr);
  if (layers.scroll) scroll(ctx, placed.marks, view.scrollX + view.width);
  if (layers.moves) cells(ctx, placed.moves, (s) => `rgba(37, 99, 235, ${(0.12 + 0.5 * s).toFixed(3)})`);
  if (layers.clicks) {
    cells(ctx, placed.cells, (s) => heat(s, 0.3 + 0.4 * s));
    clicks(ctx, placed.points);
  }
  const shown = placed.markers.filter((m) => layers[m.kind]);
  markers(ctx, shown);
}
