// The embedded admin page: its views (the dashboard first, then the heatmap,
// privacy requests, and the settings: the project, "Enable tracking", the
// share of visitors tracked, whether events arrive), each loaded with the
// merchant's session token (see api.js).
import { api } from "/admin/api.js";
import { initDashboard, load as loadDashboard } from "/admin/dashboard.js";
import { initHeatmap, refreshHeatmap } from "/admin/heatmap-view.js";
import { initNav } from "/admin/nav.js";

const $ = (id) => document.getElementById(id);
const state = { heatmap: null, layout: null, scrollChart: null, dashboard: null, heatmapView: null };

function say(el, text, kind) {
  el.textContent = text;
  el.className = kind || "";
}

async function showProject() {
  const p = await api("POST", "/api/config", {});
  $("project-name").textContent = p.name;
  $("project-site").textContent = p.matomoId;
  $("project-sample").textContent = `${p.sample}%`;
  $("sample-input").value = p.sample;
}

/** "2 minutes ago", from milliseconds since the epoch. */
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return "just now";
  const [n, unit] = s < 3600 ? [Math.round(s / 60), "minute"] : s < 86400 ? [Math.round(s / 3600), "hour"]
    : [Math.round(s / 86400), "day"];
  return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
}

/** Whether events arrive; if none yet, the next step and where to take it. */
async function showStatus() {
  const st = await api("GET", "/api/status");
  const link = $("embed-link");
  link.href = st.embedLink;
  link.hidden = st.lastEventAt != null;
  if (st.lastEventAt != null) {
    say($("events-status"), `Receiving events, last one ${ago(st.lastEventAt)}.`, "ok");
  } else {
    say($("events-status"), "No events yet: enable tracking, then turn on Lummmen's app embed in your theme.");
  }
}

async function saveSample(event) {
  event.preventDefault();
  const sample = Number($("sample-input").value);
  say($("sample-result"), "Saving…");
  try {
    const r = await api("POST", "/api/sample", { sample });
    $("project-sample").textContent = `${r.sample}%`;
    say($("sample-result"), `Saved: ${r.sample}% of visitors are tracked.`, "ok");
  } catch (e) {
    say($("sample-result"), `Could not save: ${e.message}`, "error");
  }
}

async function enableTracking() {
  const button = $("enable");
  button.disabled = true;
  say($("enable-result"), "Enabling…");
  try {
    const r = await api("POST", "/api/enable", {});
    say($("enable-result"), `Tracking is on: site ${r.siteId} is set on your theme and the web pixel is active.`, "ok");
    await showStatus().catch(() => {});
  } catch (e) {
    say($("enable-result"), `Could not enable tracking: ${e.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

const TOPICS = {
  "customers/data_request": "Customer asks for their data",
  "customers/redact": "Customer asks to be deleted",
  "shop/redact": "Shop asks to delete all its data",
};
const STATUSES = { open: "To do", fulfilled: "Done, awaiting review", resolved: "Closed", unfulfillable: "Nothing to do" };

function outcomeText(t) {
  const o = t.outcome;
  if (!o) return "";
  if (o.unfulfillable) return o.unfulfillable;
  if (o.action === "redact") return `Deleted ${o.rows_deleted} rows of ${o.visitors} visitor(s).`;
  if (o.action === "export") return `Exported ${o.rows} rows of ${o.visitors} visitor(s).`;
  if (o.action === "shop_redact") return `Deleted ${o.rows_deleted} rows of the shop.`;
  return JSON.stringify(o);
}

function download(name, value) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: "application/json" }));
  a.download = name;
  a.click();
}

async function ticketAction(id, action) {
  const status = $("status");
  try {
    const r = await api("POST", `/api/gdpr/tickets/${id}/${action}`, {});
    if (r.export) download(`lummmen-request-${id}.json`, r.export);
    say(status, action === "fulfil" ? `Request ${id}: ${outcomeText(r.ticket)}` : `Request ${id} closed.`, "ok");
  } catch (e) {
    say(status, `Request ${id}: ${e.message}`, "error");
  }
  await showTickets();
}

async function showTickets() {
  const { tickets } = await api("GET", "/api/gdpr/tickets");
  const rows = tickets.map((t) => {
    const tr = document.createElement("tr");
    tr.dataset.ticket = t.id;
    tr.dataset.status = t.status;
    const cells = [t.id, TOPICS[t.topic] || t.topic, new Date(t.created_at).toLocaleString(),
      STATUSES[t.status] || t.status, outcomeText(t)];
    for (const c of cells) tr.insertCell().textContent = c;
    const actions = tr.insertCell();
    const open = t.status === "open" || t.status === "fulfilled";
    if (open && TOPICS[t.topic]) {
      const run = document.createElement("button");
      run.className = "fulfil";
      run.textContent = t.topic === "customers/data_request" ? "Run export" : "Run deletion";
      run.onclick = () => ticketAction(t.id, "fulfil");
      actions.append(run, " ");
    }
    if (open) {
      const done = document.createElement("button");
      done.className = "resolve";
      done.textContent = "Mark done";
      done.onclick = () => ticketAction(t.id, "resolve");
      actions.append(done);
    }
    return tr;
  });
  $("ticket-rows").replaceChildren(...rows);
  $("tickets-empty").hidden = rows.length > 0;
  const open = tickets.filter((t) => t.status === "open").length;
  $("tickets-badge").textContent = open;
  $("tickets-badge").hidden = !open;
}

/**
 * Loads everything; safe to call again (e.g. once a token source appears). The
 * dashboard loads on its own: its states are its own, and `data-admin`
 * speaks for the other views.
 */
export async function start() {
  const status = $("status");
  say(status, "Loading…");
  loadDashboard();
  try {
    await showProject();
    await Promise.all([showStatus(), refreshHeatmap(), showTickets()]);
    say(status, "");
    document.documentElement.dataset.admin = "ready";
  } catch (e) {
    say(status, e.message, "error");
    document.documentElement.dataset.admin = "error";
  }
}

$("enable").onclick = enableTracking;
$("sample-form").onsubmit = saveSample;
state.dashboard = initDashboard();
state.heatmapView = initHeatmap(state);
initNav();
window.lummmenAdmin = { start, state, refreshHeatmap, showTickets, loadDashboard };
start();
