// A stand-in for Shopify's storefront globals, for the demo storefront and the
// end-to-end tests (a real storefront gets them from Shopify):
// - Shopify.customerPrivacy: analyticsProcessingAllowed(), consentId(),
//   setTrackingConsent({analytics, marketing, preferences, sale_of_data}, cb), which
//   dispatches `visitorConsentCollected` on document ONLY when the decision changes,
//   as Shopify does, with detail {analyticsAllowed, marketingAllowed,
//   preferencesAllowed, saleOfDataAllowed};
// - Shopify.loadFeatures([{name: "consent-tracking-api", version: "0.1"}], cb), which
//   installs customerPrivacy asynchronously (calls are recorded in
//   Shopify.loadFeaturesCalls);
// - Shopify.analytics.publish(name, data), which records calls in
//   Shopify.analytics.published;
// - a tiny consent banner (#standin-banner, buttons #standin-accept and
//   #standin-decline) and a "Privacy choices" button (#standin-privacy) to reopen it.
//
// The decision and the consent id persist in localStorage (not a cookie), so they
// survive reloads like Shopify's. Options, from the script tag's data attributes or
// the page URL (`?standin=defer,noConsentId,consent=granted`):
//   defer        customerPrivacy is absent until loadFeatures is called
//   noConsentId  consentId() returns "" (consent without an id)
//   consent      initial decision when none is stored: granted | denied
//   banner=off   no banner
(() => {
  const me = document.currentScript;
  const opts = Object.assign({}, me && me.dataset);
  for (const part of new URLSearchParams(location.search).getAll("standin").join(",").split(",")) {
    if (!part) continue;
    const [k, v] = part.split("=");
    opts[k] = v === undefined ? "1" : v;
  }
  const store = {
    get: (k) => { try { return localStorage.getItem("standin:" + k); } catch (_) { return null; } },
    set: (k, v) => { try { localStorage.setItem("standin:" + k, v); } catch (_) { /* private mode */ } },
  };
  if (store.get("analytics") === null && (opts.consent === "granted" || opts.consent === "denied")) {
    store.set("analytics", opts.consent === "granted" ? "1" : "0");
  }
  let analytics = store.get("analytics"); // "1", "0" or null (no decision yet)
  let consentId = store.get("consentId");
  if (!consentId) {
    consentId = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    store.set("consentId", consentId);
  }
  let others = { marketing: false, preferences: false, sale_of_data: false };

  const privacy = {
    analyticsProcessingAllowed: () => analytics === "1",
    marketingAllowed: () => analytics !== null && others.marketing,
    preferencesProcessingAllowed: () => analytics !== null && others.preferences,
    saleOfDataAllowed: () => analytics !== null && others.sale_of_data,
    consentId: () => (opts.noConsentId ? "" : consentId),
    shouldShowBanner: () => analytics === null,
    currentVisitorConsent: () => ({ analytics: analytics === "1" ? "yes" : analytics === "0" ? "no" : "" }),
    setTrackingConsent(consent, callback) {
      const next = consent && consent.analytics ? "1" : "0";
      const changed = next !== analytics;
      analytics = next;
      others = { marketing: !!consent.marketing, preferences: !!consent.preferences, sale_of_data: !!consent.sale_of_data };
      store.set("analytics", next);
      renderBanner();
      if (changed) {
        document.dispatchEvent(new CustomEvent("visitorConsentCollected", {
          detail: {
            analyticsAllowed: next === "1",
            marketingAllowed: others.marketing,
            preferencesAllowed: others.preferences,
            saleOfDataAllowed: others.sale_of_data,
          },
        }));
      }
      if (typeof callback === "function") setTimeout(() => callback({}), 0);
    },
  };

  const S = (window.Shopify = window.Shopify || {});
  S.analytics = {
    published: [],
    publish(name, data) {
      this.published.push({ name, data: JSON.parse(JSON.stringify(data)) });
    },
  };
  S.loadFeaturesCalls = [];
  S.loadFeatures = (features, callback) => {
    S.loadFeaturesCalls.push(JSON.parse(JSON.stringify(features)));
    setTimeout(() => {
      if (features.some((f) => f.name === "consent-tracking-api")) S.customerPrivacy = privacy;
      callback(null);
    }, 20);
  };
  if (!opts.defer) S.customerPrivacy = privacy;

  let banner;
  // Its inline `display: flex` would win over the `hidden` attribute alone.
  function showBanner(shown) {
    banner.hidden = !shown;
    banner.style.display = shown ? "flex" : "none";
  }
  function renderBanner() {
    if (!banner) return;
    showBanner(analytics === null);
  }
  function mountBanner() {
    if (opts.banner === "off") return;
    banner = document.createElement("div");
    banner.id = "standin-banner";
    banner.setAttribute("role", "dialog");
    banner.style.cssText =
      "position:fixed;left:1rem;right:1rem;bottom:1rem;padding:1rem;background:#111827;color:#fff;" +
      "border-radius:8px;font:14px system-ui,sans-serif;z-index:2147483647;display:flex;gap:1rem;align-items:center";
    banner.innerHTML =
      '<span style="flex:1">We use analytics to improve this shop, only with your consent.</span>' +
      '<button id="standin-decline" type="button">Decline</button>' +
      '<button id="standin-accept" type="button">Accept</button>';
    banner.querySelector("#standin-accept").onclick = () => privacy.setTrackingConsent({ analytics: true }, () => {});
    banner.querySelector("#standin-decline").onclick = () => privacy.setTrackingConsent({ analytics: false }, () => {});
    const reopen = document.createElement("button");
    reopen.id = "standin-privacy";
    reopen.type = "button";
    reopen.textContent = "Privacy choices";
    reopen.style.cssText = "position:fixed;left:.5rem;bottom:.5rem;font:12px system-ui,sans-serif;z-index:2147483646";
    reopen.onclick = () => showBanner(true);
    document.body.append(banner, reopen);
    renderBanner();
  }
  if (document.body) mountBanner();
  else document.addEventListener("DOMContentLoaded", mountBanner);
})();
