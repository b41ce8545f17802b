// The dashboard's date ranges: presets computed in the browser's time zone,
// which is also the `tz` sent with them, so "today" is the merchant's today.
// Dates are `YYYY-MM-DD` strings, as the API takes and answers them. Pure
// apart from the clock passed in.

export const PRESETS = [
  ["today", "Today"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["month", "This month"],
];

/** The browser's IANA time zone, e.g. "Europe/Paris". */
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** A local date as `YYYY-MM-DD`. */
export function isoDate(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** `YYYY-MM-DD` as a local Date at noon (never on the wrong side of a DST change). */
export function parseDate(s) {
  const [y, m, d] = s.split("-").map(Number);
  return new Date(y, m - 1, d, 12);
}

/** The day `n` days after (before, when negative) a `YYYY-MM-DD` date. */
export function addDays(s, n) {
  const d = parseDate(s);
  d.setDate(d.getDate() + n);
  return isoDate(d);
}

/** Days from `from` to `to`, both included. */
export function dayCount(from, to) {
  return Math.round((parseDate(to) - parseDate(from)) / 86_400_000) + 1;
}

/** The range of a preset, ending today (`now` in the browser's time zone). */
export function presetRange(name, now = new Date()) {
  const today = isoDate(now);
  switch (name) {
    case "today":
      return { from: today, to: today };
    case "7d":
      return { from: addDays(today, -6), to: today };
    case "30d":
      return { from: addDays(today, -29), to: today };
    case "month":
      return { from: `${today.slice(0, 8)}01`, to: today };
    default:
      throw new Error(`unknown preset ${name}`);
  }
}

/** Why a custom range cannot be asked for, or null when it can. */
export function customRangeProblem(from, to) {
  if (!from || !to) return "Pick a start and an end date.";
  if (from > to) return "The start date is after the end date.";
  return null;
}

/** "Nov 1 – 7, 2026" (or one date), in the browser's locale. */
export function rangeLabel(from, to) {
  const f = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
  if (from === to) return f.format(parseDate(from));
  return typeof f.formatRange === "function"
    ? f.formatRange(parseDate(from), parseDate(to))
    : `${f.format(parseDate(from))} – ${f.format(parseDate(to))}`;
}

/** "Nov 1" (or "Mon, Nov 1" with `weekday`), for chart axes and legends. */
export function dayLabel(date, weekday = false) {
  const opts = { day: "numeric", month: "short", ...(weekday ? { weekday: "short" } : {}) };
  return new Intl.DateTimeFormat(undefined, opts).format(parseDate(date));
}
