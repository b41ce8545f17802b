// The overlay's one call: GET /api/heatmap on the backend the tracker posts
// to, with the overlay token from the merchant's link. No cookies: the token
// is the whole credential.

/** `/api/heatmap` next to the tracker's endpoint (`https://app.example/collect`, or `/collect`). */
export function heatmapUrl(endpoint) {
  return new URL("api/heatmap", new URL(endpoint || "/collect", location.href)).href;
}

/**
 * Fetches the heatmap of `page` for `bucket` over `range`; answers
 * `{ok: map}`, `{unauthorized: true}` (the link expired or is not valid), or
 * `{error: text}`.
 */
export async function fetchHeatmap(url, token, page, bucket, range) {
  const q = new URLSearchParams({ page, bucket, from: range.from, to: range.to, mode: "all" });
  let r;
  try {
    r = await fetch(`${url}?${q}`, { headers: { Authorization: `Bearer ${token}` }, credentials: "omit", cache: "no-store" });
  } catch (e) {
    return { error: `the heatmap service could not be reached (${e.message})` };
  }
  if (r.status === 401) return { unauthorized: true };
  const body = await r.json().catch(() => ({}));
  if (!r.ok) return { error: body.detail || `HTTP ${r.status}` };
  return { ok: body };
}
