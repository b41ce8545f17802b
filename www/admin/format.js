// How the dashboard writes figures: numbers, shares, money and the change
// against the previous period, in the merchant's browser locale. Pure.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** `1234` → "1,234" (in the browser's locale). */
export function number(n) {
  return integer.format(n);
}

/** `0.4237` → "42.4%": one decimal under 10%, none above, so small shares still read. */
export function percent(ratio) {
  const p = ratio * 100;
  const digits = p !== 0 && Math.abs(p) < 10 ? 1 : 0;
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(p)}%`;
}

/** `{currency: "EUR", amount: 312.5}` → "€312.50"; an unknown code still reads. */
export function money({ currency, amount }) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** Amounts in several currencies, each written in its own; "0" for none. */
export function moneys(list) {
  return list.length ? list.map(money).join(" · ") : "0";
}

/**
 * The change from `previous` to `current`: direction ("up", "down", "flat",
 * or "none" when there is nothing to compare with) and its text. A change
 * from zero has no percentage, so it is neutral rather than "+∞%".
 */
export function change(current, previous) {
  if (!previous) return { direction: "none", ratio: null, text: current ? "no previous data" : "no change" };
  const ratio = (current - previous) / previous;
  const rounded = Math.round(ratio * 100);
  if (rounded === 0) return { direction: "flat", ratio, text: "no change" };
  return { direction: rounded > 0 ? "up" : "down", ratio, text: `${rounded > 0 ? "+" : "−"}${Math.abs(rounded)}%` };
}

/**
 * The change of a rate (bounce rate) in percentage points: a move from 40% to
 * 50% is "+10 pts", not "+25%". `comparable` is false when the previous
 * period had no sessions, so its rate means nothing.
 */
export function pointsChange(current, previous, comparable) {
  if (!comparable) return { direction: "none", ratio: null, text: "no previous data" };
  const points = Math.round((current - previous) * 100);
  if (points === 0) return { direction: "flat", ratio: current - previous, text: "no change" };
  return {
    direction: points > 0 ? "up" : "down",
    ratio: current - previous,
    text: `${points > 0 ? "+" : "−"}${Math.abs(points)} pts`,
  };
}
