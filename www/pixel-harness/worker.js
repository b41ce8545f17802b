// A Shopify-shaped web pixel runtime inside a real Web Worker, like Shopify's
// strict sandbox: no window or document. It defines the global `shopify.extend`
// that `register` from @shopify/web-pixels-extension calls, loads the BUILT
// bundle with importScripts, and hands the extension the same API surface:
// `analytics.subscribe` (standard and custom events, `all_events`,
// `all_standard_events`, `all_custom_events`), `browser.cookie` (the page's
// first-party cookies, through the page), `browser.sessionStorage` (the page's own
// `sessionStorage`, through the page, asynchronous as Shopify's is), `init`,
// `customerPrivacy.subscribe`, `settings`. Every request the pixel makes is recorded (url, method, body
// bytes, options) before it goes to the network unchanged; `fail-next` makes the
// next requests fail as a network error would, without sending them.
"use strict";

const subscribers = new Map(); // event name -> callbacks
const privacySubscribers = new Map();
const pendingCookies = new Map(); // request id -> resolve
let cookieSeq = 0;
const pendingStorage = new Map(); // request id -> resolve
let storageSeq = 0;
let extendCallback = null;

const report = (msg) => self.postMessage(msg);

self.shopify = {
  extend(point, callback) {
    if (point !== "WebPixel::Render") throw new Error(`unknown extension point ${point}`);
    extendCallback = callback;
  },
};

// Requests to fail as a network error would, without sending them (`failNext`).
let failNext = 0;

const realFetch = self.fetch.bind(self);
self.fetch = (url, options = {}) => {
  const fail = failNext > 0;
  if (fail) failNext -= 1;
  report({
    type: "request",
    url: String(url),
    method: options.method || "GET",
    body: typeof options.body === "string" ? options.body : String(options.body ?? ""),
    keepalive: !!options.keepalive,
    mode: options.mode || "cors",
    credentials: options.credentials || "same-origin",
    contentType: options.headers ? JSON.stringify(options.headers) : null,
    at: Date.now(),
    failed: fail,
  });
  if (fail) {
    report({ type: "response", url: String(url), status: -1, kind: "network error (harness)" });
    return Promise.reject(new TypeError("Failed to fetch"));
  }
  const done = (status, kind) => report({ type: "response", url: String(url), status, kind });
  return realFetch(url, options).then(
    (r) => {
      done(r.status, r.type);
      return r;
    },
    (e) => {
      done(-1, String(e));
      throw e;
    },
  );
};

const subscribe = (map, name, callback) => {
  if (!map.has(name)) map.set(name, []);
  map.get(name).push(callback);
  return () => {
    const list = map.get(name) || [];
    const i = list.indexOf(callback);
    if (i >= 0) list.splice(i, 1);
    return i >= 0;
  };
};

const deliver = (event) => {
  const frozen = Object.freeze(event);
  const kinds = [event.name, "all_events", event.type === "custom" ? "all_custom_events" : "all_standard_events"];
  for (const kind of kinds) for (const cb of subscribers.get(kind) || []) cb(frozen);
};

const cookieGet = (name) =>
  new Promise((resolve) => {
    const id = ++cookieSeq;
    pendingCookies.set(id, resolve);
    report({ type: "cookie-get", id, name });
  });

// `browser.sessionStorage`: every call goes to the page, which keeps the data in
// its own sessionStorage (so it outlives this worker, as Shopify's does) and
// records the call.
const storageCall = (op, key, value) =>
  new Promise((resolve) => {
    const id = ++storageSeq;
    pendingStorage.set(id, resolve);
    report({ type: "storage", id, op, key: String(key), value: value === undefined ? undefined : String(value) });
  });

const start = async ({ bundleUrl, settings, init, lacking = [], refuseCompile = false }) => {
  // Browsers and sandboxes without what the pixel needs.
  for (const name of lacking) delete self[name];
  if (refuseCompile) {
    const refuse = () => {
      throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile (harness: no 'wasm-unsafe-eval')");
    };
    WebAssembly.Module = refuse;
    WebAssembly.compile = WebAssembly.instantiate = () => Promise.reject(new WebAssembly.CompileError("refused (harness)"));
  }
  const loadStart = performance.now();
  importScripts(bundleUrl);
  const loaded = performance.now();
  if (!extendCallback) throw new Error("the bundle did not call shopify.extend");
  const api = {
    settings: Object.freeze({ ...settings }),
    analytics: { subscribe: (name, cb) => subscribe(subscribers, name, cb) },
    browser: {
      cookie: {
        get: cookieGet,
        set: (nameOrCookie, value) => {
          report({ type: "cookie-set", cookie: value === undefined ? nameOrCookie : `${nameOrCookie}=${value}` });
          return Promise.resolve(value === undefined ? nameOrCookie : `${nameOrCookie}=${value}`);
        },
      },
      localStorage: { getItem: async () => null, setItem: async () => {}, removeItem: async () => {} },
      sessionStorage: {
        getItem: (key) => storageCall("getItem", key),
        setItem: (key, value) => storageCall("setItem", key, value).then(() => undefined),
        removeItem: (key) => storageCall("removeItem", key).then(() => undefined),
      },
      sendBeacon: async () => {
        throw new Error("sendBeacon is deprecated in the pixel sandbox");
      },
    },
    init,
    customerPrivacy: { subscribe: (name, cb) => subscribe(privacySubscribers, name, cb) },
    _pixelInfo: { id: "harness", type: "APP", runtimeContext: "STRICT" },
  };
  const registerStart = performance.now();
  await extendCallback(api);
  const ready = performance.now();
  report({ type: "ready", loadMs: loaded - loadStart, readyMs: ready - registerStart });
};

self.onmessage = ({ data }) => {
  switch (data.type) {
    case "start":
      start(data).catch((e) => report({ type: "error", message: String((e && e.stack) || e) }));
      break;
    case "event":
      deliver(data.event);
      break;
    case "consent":
      for (const cb of privacySubscribers.get("visitorConsentCollected") || []) cb(data.payload);
      report({ type: "consent-delivered" });
      break;
    case "fail-next":
      failNext = data.count;
      break;
    case "storage-result": {
      const resolve = pendingStorage.get(data.id);
      pendingStorage.delete(data.id);
      if (resolve) resolve(data.value);
      break;
    }
    case "cookie-value": {
      const resolve = pendingCookies.get(data.id);
      pendingCookies.delete(data.id);
      if (resolve) resolve(data.value);
      break;
    }
  }
};

self.addEventListener("error", (e) => report({ type: "error", message: String(e.message) }));
self.addEventListener("unhandledrejection", (e) => report({ type: "error", message: String(e.reason) }));
