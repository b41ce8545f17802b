// The dashboard's breakdowns of a range: the ecommerce funnel as bars with the
// conversion of each step, and the tables of pages, sources, devices and
// products. Rows carry their raw figures in data attributes.

import { number, percent } from "/admin/format.js";

const STEPS = [
  ["productViewed", "Viewed a product", null],
  ["addedToCart", "Added to cart", "of product viewers"],
  ["checkoutCompleted", "Completed checkout", "of those who added to cart"],
];

/** The funnel: one bar per step, as wide as its share of the largest step. */
export function renderFunnel(list, overall, funnel) {
  const widest = Math.max(1, ...STEPS.map(([key]) => funnel[key]));
  let before = null;
  const items = STEPS.map(([key, label, rateOf]) => {
    const n = funnel[key];
    const li = document.createElement("li");
    li.dataset.step = key;
    li.dataset.value = n;
    const head = document.createElement("div");
    head.className = "step-head";
    const name = document.createElement("span");
    name.textContent = label;
    const count = document.createElement("b");
    count.className = "value";
    count.textContent = number(n);
    head.append(name, count);
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${(100 * n) / widest}%`;
    bar.append(fill);
    const rate = document.createElement("div");
    rate.className = "rate";
    if (rateOf) {
      if (before) {
        li.dataset.rate = n / before;
        rate.textContent = `${percent(n / before)} ${rateOf}`;
      } else {
        rate.textContent = `– ${rateOf}`;
      }
    }
    before = n;
    li.append(head, bar, rate);
    return li;
  });
  list.replaceChildren(...items);
  const first = funnel.productViewed;
  overall.textContent = first
    ? `${percent(funnel.checkoutCompleted / first)} of product viewers completed a checkout.`
    : "";
}

/**
 * Fills a table's body: `rows` of cells, each `[text, raw]` (raw in
 * `data-value`, numbers right-aligned); `share` in 0..1 draws a bar behind the
 * first cell; an empty list says so.
 */
export function fillTable(table, rows, empty) {
  const body = table.tBodies[0];
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.className = "empty";
    const td = tr.insertCell();
    td.colSpan = table.tHead.rows[0].cells.length;
    td.textContent = empty;
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(...rows.map(({ key, cells, share }) => {
    const tr = document.createElement("tr");
    tr.dataset.key = key;
    cells.forEach(([text, raw], i) => {
      const td = tr.insertCell();
      td.textContent = text;
      if (raw !== undefined) {
        td.dataset.value = raw;
        td.className = "num";
      }
      if (i === 0) {
        td.className = "label";
        td.title = text;
        td.style.setProperty("--share", share ?? 0);
      }
    });
    return tr;
  }));
}

const DEVICES = [["mobile", "Mobile"], ["tablet", "Tablet"], ["desktop", "Desktop"]];

/** The four tables of a `/api/stats` answer. */
export function renderTables(root, stats) {
  const q = (id) => root.querySelector(`#${id}`);
  const top = (list, key) => Math.max(1, ...list.map((r) => r[key]));

  const maxViews = top(stats.topPages, "pageviews");
  fillTable(q("top-pages"), stats.topPages.map((p) => ({
    key: p.path,
    share: p.pageviews / maxViews,
    cells: [[p.path], [number(p.pageviews), p.pageviews], [number(p.visitors), p.visitors]],
  })), "No page views in this range.");

  const sessions = stats.sources.reduce((s, r) => s + r.sessions, 0) || 1;
  fillTable(q("sources"), stats.sources.map((s) => ({
    key: s.source,
    share: s.sessions / sessions,
    cells: [[s.source === "direct" ? "Direct / none" : s.source], [number(s.sessions), s.sessions],
      [percent(s.sessions / sessions), s.sessions / sessions]],
  })), "No sessions in this range.");

  const d = stats.devices;
  const total = d.mobile + d.tablet + d.desktop;
  fillTable(q("devices"), total ? DEVICES.map(([key, label]) => ({
    key,
    share: d[key] / total,
    cells: [[label], [number(d[key]), d[key]], [percent(d[key] / total), d[key] / total]],
  })) : [], "No sessions in this range.");

  const maxProduct = top(stats.topProducts, "views");
  fillTable(q("top-products"), stats.topProducts.map((p) => ({
    key: p.productId,
    share: p.views / maxProduct,
    cells: [[p.name || `Product ${p.productId}`], [number(p.views), p.views], [number(p.addedToCart), p.addedToCart],
      p.views ? [percent(p.addedToCart / p.views), p.addedToCart / p.views] : ["–", ""]],
  })), "No product views in this range.");
}
