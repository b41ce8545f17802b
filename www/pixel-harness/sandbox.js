// Runs Lummmen's built web pixel in a real Web Worker with a Shopify-shaped API
// (see worker.js), from any page: this harness, or the demo storefront, whose
// tracker reaches the pixel through `Shopify.analytics.publish` as on a real
// theme. Classic script; defines `window.LummmenPixelSandbox`.
"use strict";

(() => {
  const here = document.currentScript ? new URL(".", document.currentScript.src) : new URL("/pixel-harness/", location.href);

  const privacy = (allowed) => ({
    analyticsProcessingAllowed: !!allowed,
    marketingAllowed: false,
    preferencesProcessingAllowed: false,
    saleOfDataAllowed: false,
  });

  const readCookie = (name) => {
    for (const part of document.cookie.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === name) return decodeURIComponent(v.join("="));
    }
    return "";
  };

  // The `context` Shopify attaches to every event: snapshots of the top frame.
  const context = () => {
    const loc = { ...Object.fromEntries(["hash", "host", "hostname", "href", "origin", "pathname", "port", "protocol", "search"].map((k) => [k, location[k]])) };
    return {
      document: { characterSet: document.characterSet, location: loc, referrer: document.referrer, title: document.title },
      navigator: { cookieEnabled: navigator.cookieEnabled, language: navigator.language, languages: [...navigator.languages], userAgent: navigator.userAgent },
      window: {
        innerHeight: innerHeight, innerWidth: innerWidth, location: loc, origin: location.origin,
        outerHeight: outerHeight, outerWidth: outerWidth, pageXOffset: pageXOffset, pageYOffset: pageYOffset,
        screen: { height: screen.height, width: screen.width }, screenX: screenX, screenY: screenY, scrollX: scrollX, scrollY: scrollY,
      },
    };
  };

  /**
   * Starts the pixel. Options: `bundleUrl` (default: the server's
   * /pixel/lummmen-pixel.js), `settings` (the pixel's settings, strings),
   * `analyticsAllowed` (init.customerPrivacy), `customer` (init.data.customer),
   * `cart` (init.data.cart: the shopper's cart when the page loaded),
   * `lacking` (globals removed from the worker first, e.g. `["WebAssembly"]`),
   * `refuseCompile` (compiling wasm throws, as under a policy without
   * `wasm-unsafe-eval`).
   * Returns a sandbox: `ready` (a promise of start-up timings), `requests` (every
   * request the pixel made), `publish(name, customData)`, `emit(standardEvent)`,
   * `responses` (their outcomes), `storageCalls` (the pixel's `browser.sessionStorage`
   * calls, kept in this page's sessionStorage), `setConsent(allowed)`,
   * `failNextRequests(n)`, `errors`, `terminate()`.
   */
  const start = (options = {}) => {
    const worker = new Worker(new URL("worker.js", here));
    const sandbox = { requests: [], responses: [], errors: [], cookieSets: [], storageCalls: [], consentDeliveries: 0, timings: null, seq: 0 };
    const clientId = crypto.randomUUID();
    let resolveReady;
    let rejectReady;
    sandbox.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    worker.onmessage = ({ data }) => {
      switch (data.type) {
        case "ready":
          sandbox.timings = { loadMs: data.loadMs, readyMs: data.readyMs };
          resolveReady(sandbox.timings);
          break;
        case "request":
          sandbox.requests.push(data);
          break;
        case "response":
          sandbox.responses.push(data);
          break;
        case "cookie-get":
          worker.postMessage({ type: "cookie-value", id: data.id, value: readCookie(data.name) });
          break;
        case "storage": {
          sandbox.storageCalls.push({ op: data.op, key: data.key, at: Date.now() });
          let value;
          try {
            if (data.op === "getItem") value = sessionStorage.getItem(data.key);
            else if (data.op === "setItem") sessionStorage.setItem(data.key, data.value);
            else if (data.op === "removeItem") sessionStorage.removeItem(data.key);
          } catch (e) {
            sandbox.errors.push(`sessionStorage.${data.op}: ${e}`);
          }
          worker.postMessage({ type: "storage-result", id: data.id, value: value ?? null });
          break;
        }
        case "cookie-set":
          sandbox.cookieSets.push(data.cookie);
          break;
        case "consent-delivered":
          sandbox.consentDeliveries += 1;
          break;
        case "error":
          sandbox.errors.push(data.message);
          rejectReady(new Error(data.message));
          break;
      }
    };
    worker.onerror = (e) => {
      sandbox.errors.push(String(e.message));
      rejectReady(new Error(e.message));
    };
    const envelope = (name, type) => ({
      id: `sh-${crypto.randomUUID()}`,
      clientId,
      name,
      seq: ++sandbox.seq,
      timestamp: new Date().toISOString(),
      type,
      context: context(),
    });
    /** A custom event, as `Shopify.analytics.publish(name, customData)` sends it. */
    sandbox.publish = (name, customData) => {
      worker.postMessage({ type: "event", event: { ...envelope(name, "custom"), customData: customData ?? null } });
      return true;
    };
    /** A standard event as Shopify delivers it (a fixture, or built by a page). */
    sandbox.emit = (event) => {
      worker.postMessage({ type: "event", event: { ...envelope(event.name, "standard"), ...event } });
    };
    /** The shopper changes consent: `visitorConsentCollected` reaches the pixel. */
    sandbox.setConsent = (allowed) => {
      worker.postMessage({ type: "consent", payload: { customerPrivacy: privacy(allowed) } });
    };
    /** The pixel's next `count` requests fail as a network error, unsent. */
    sandbox.failNextRequests = (count) => worker.postMessage({ type: "fail-next", count });
    sandbox.terminate = () => worker.terminate();

    const init = {
      context: context(),
      data: {
        customer: options.customer ?? null,
        cart: options.cart ?? null,
        shop: { countryCode: "FR", myshopifyDomain: "demo-shop.myshopify.com", name: "Demo Shop", paymentSettings: { currencyCode: "EUR" }, storefrontUrl: location.origin },
        purchasingCompany: null,
      },
      customerPrivacy: privacy(options.analyticsAllowed),
    };
    worker.postMessage({
      type: "start",
      bundleUrl: options.bundleUrl || new URL("/pixel/lummmen-pixel.js", location.href).href,
      settings: options.settings || {},
      init,
      lacking: options.lacking || [],
      refuseCompile: !!options.refuseCompile,
    });
    return sandbox;
  };

  /** Makes `Shopify.analytics.publish` reach this sandbox, as a theme reaches a pixel. */
  const installShopifyAnalytics = (sandbox) => {
    window.Shopify = window.Shopify || {};
    window.Shopify.analytics = { ...(window.Shopify.analytics || {}), publish: (name, data) => sandbox.publish(name, data) };
  };

  window.LummmenPixelSandbox = { start, installShopifyAnalytics };
})();
