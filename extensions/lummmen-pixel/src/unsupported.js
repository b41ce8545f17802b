// What the pixel needs that a browser may lack, and the one report it sends
// instead of the events when it cannot run (`POST /collect/unsupported`, see
// the README, "A pixel that cannot run"). A JavaScript build of the core was
// measured and is over Shopify's 128 KB, so there is no fallback to run.
//
// The report carries the site, the client and the reason: no ids, no page.
// Like every request of the pixel it waits for the shopper's analytics consent.

/** The missing global, or "" when the pixel can start. */
export const missing = () => {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.Module !== "function") return "webassembly";
  if (typeof DecompressionStream !== "function") return "decompression";
  return "";
};

/**
 * Reports `reason` once: now if analytics is allowed, else when the shopper
 * allows it. Without a site id or an endpoint in the settings there is nowhere
 * to report to, and nothing is sent.
 */
export const reportUnsupported = (reason, { settings, init, customerPrivacy }) => {
  const site = String((settings && settings.siteId) || "").trim();
  const endpoint = String((settings && settings.endpoint) || "").trim();
  if (!/^[1-9][0-9]{0,9}$/.test(site) || !/^https?:\/\/[^/\s]+/.test(endpoint)) return;
  const url = `${endpoint.replace(/\/+$/, "")}/unsupported`;
  const body = JSON.stringify({ s: Number(site), c: "pixel", r: reason });
  let sent = false;
  const send = (privacy) => {
    if (sent || !(privacy && privacy.analyticsProcessingAllowed === true)) return;
    sent = true;
    fetch(url, { method: "POST", body, keepalive: true, mode: "cors", credentials: "omit" }).catch(() => {});
  };
  send(init && init.customerPrivacy);
  customerPrivacy.subscribe("visitorConsentCollected", (e) => send(e && e.customerPrivacy));
};
