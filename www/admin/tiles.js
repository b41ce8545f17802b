// The dashboard's headline tiles: each figure of the range, and its change
// against the previous period of the same length. Each tile carries the raw
// figure in `data-value` (the text is formatted for the merchant's locale).

import { change, money, moneys, number, percent, pointsChange } from "/admin/format.js";

const ARROWS = { up: "▲", down: "▼", flat: "▶", none: "–" };

/** Writes a tile's figure: `text` shown, `raw` kept in `data-value`. */
function setValue(tile, text, raw) {
  const value = tile.querySelector(".value");
  value.textContent = text;
  value.dataset.value = raw;
  tile.dataset.value = raw;
}

/**
 * Writes a tile's change. `good` is the direction that is good news (down for
 * the bounce rate), which picks the colour; `was` explains the comparison on
 * hover.
 */
function setDelta(tile, delta, good, was) {
  const el = tile.querySelector(".delta");
  const tone = delta.direction === "up" || delta.direction === "down"
    ? (delta.direction === good ? "good" : "bad") : "neutral";
  el.className = `delta ${delta.direction} ${tone}`;
  el.dataset.direction = delta.direction;
  el.dataset.change = delta.ratio == null ? "" : String(delta.ratio);
  el.title = was;
  const arrow = document.createElement("span");
  arrow.className = "arrow";
  arrow.setAttribute("aria-hidden", "true");
  arrow.textContent = ARROWS[delta.direction];
  const vs = document.createElement("span");
  vs.className = "vs";
  vs.textContent = delta.direction === "none" ? "" : " vs previous period";
  el.replaceChildren(arrow, ` ${delta.text}`, vs);
}

/** The currency with the most revenue now, so the change is of the main one. */
function mainCurrency(revenue) {
  return revenue.reduce((best, m) => (!best || m.amount > best.amount ? m : best), null);
}

/** Fills every tile from a `/api/stats` answer. */
export function renderTiles(root, stats) {
  const prev = stats.previous;
  const tile = (stat) => root.querySelector(`[data-stat="${stat}"]`);
  const was = (text) => `Previous period (${prev.from} to ${prev.to}): ${text}`;

  for (const stat of ["visitors", "sessions", "pageviews", "orders"]) {
    setValue(tile(stat), number(stats[stat]), stats[stat]);
    setDelta(tile(stat), change(stats[stat], prev[stat]), "up", was(number(prev[stat])));
  }

  const bounce = tile("bounceRate");
  setValue(bounce, stats.sessions ? percent(stats.bounceRate) : "–", stats.bounceRate);
  setDelta(bounce, pointsChange(stats.bounceRate, prev.bounceRate, prev.sessions > 0 && stats.sessions > 0), "down",
    was(prev.sessions ? percent(prev.bounceRate) : "no sessions"));

  const revenue = tile("revenue");
  const value = revenue.querySelector(".value");
  // One line per currency, the largest first.
  const amounts = [...stats.revenue].sort((a, b) => b.amount - a.amount);
  value.replaceChildren(...(amounts.length ? amounts : [null]).map((m) => {
    const span = document.createElement("span");
    if (m) {
      span.dataset.currency = m.currency;
      span.dataset.amount = m.amount;
    }
    span.textContent = m ? money(m) : "0";
    return span;
  }));
  value.dataset.value = JSON.stringify(stats.revenue);
  revenue.dataset.value = value.dataset.value;
  const main = mainCurrency(stats.revenue);
  const before = main && prev.revenue.find((m) => m.currency === main.currency);
  const delta = change(main ? main.amount : 0, before ? before.amount : 0);
  if (main && stats.revenue.length > 1 && delta.direction !== "none") delta.text += ` (${main.currency})`;
  setDelta(revenue, delta, "up", was(moneys(prev.revenue)));

  const shop = stats.shopifyOrders;
  const orders = tile("shopifyOrders");
  setValue(orders, number(shop.orders), shop.orders);
  const note = orders.querySelector(".note");
  const seen = document.createElement("span");
  seen.className = "seen";
  seen.dataset.value = shop.seenByPixel;
  seen.textContent = shop.orders
    ? `${number(shop.seenByPixel)} of ${number(shop.orders)} seen by the pixel`
    : "No paid orders in this range";
  note.replaceChildren(seen);
  if (shop.refunds.length) {
    const refunds = document.createElement("span");
    refunds.className = "refunds";
    refunds.textContent = `Refunds ${moneys(shop.refunds)}`;
    note.append(refunds);
  }
}
