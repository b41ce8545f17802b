// Calls to the backend with the merchant's session token: from App Bridge
// (`shopify.idToken()`) inside the Shopify admin or, in local development only,
// from the server's development token source. Shared by every view.

/** A session token, fresh for every call (they live one minute). */
async function sessionToken() {
  if (window.shopify && typeof window.shopify.idToken === "function") return window.shopify.idToken();
  const dev = document.querySelector('meta[name="lummmen-dev-session-tokens"]');
  if (dev) {
    const r = await fetch(dev.content);
    if (!r.ok) throw new Error(`development token: HTTP ${r.status}`);
    return (await r.json()).token;
  }
  return null;
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** Sends the top window (not this iframe: OAuth cannot run in it) to `url`. */
function reauthorize(url) {
  window.open(url, "_top");
}

/**
 * Calls the backend with a fresh session token, as Shopify's own app libraries
 * do: a 401 marked `X-Shopify-Retry-Invalid-Session-Request` is retried once
 * with a new token; one marked `X-Shopify-API-Request-Failure-Reauthorize`
 * sends the merchant to authorize the app again.
 */
export async function api(method, path, body, retried = false) {
  const token = await sessionToken();
  if (!token) throw new ApiError("Open Lummmen from your Shopify admin (Apps → Lummmen).");
  const r = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await r.json().catch(() => ({}));
  if (r.headers.get("X-Shopify-API-Request-Failure-Reauthorize") === "1") {
    const url = r.headers.get("X-Shopify-API-Request-Failure-Reauthorize-Url") || json.url;
    if (url) reauthorize(url);
    throw new ApiError("Shopify asks you to authorize Lummmen again: taking you there.", r.status);
  }
  if (r.status === 401 && !retried && r.headers.get("X-Shopify-Retry-Invalid-Session-Request") === "1") {
    return api(method, path, body, true);
  }
  if (!r.ok) throw new ApiError(json.detail || json.error || `HTTP ${r.status}`, r.status);
  return json;
}
