// "View on storefront": the page of the heatmap on the merchant's own
// storefront, with the heatmap drawn over it. The server answers a link with a
// short-lived overlay token in its fragment (`POST /api/heatmap/overlay`); the
// link opens in a new tab, without an opener, so the storefront cannot reach
// back into this page. The session token never leaves this page.

import { api } from "/admin/api.js";

/**
 * The page to open for a choice of the picker: the page itself, or for a
 * group (`/products/*`) its page with the most clicks; null when the group
 * has none listed.
 */
export function pageToOpen(choice, pages) {
  if (!choice.endsWith("*")) return choice;
  const prefix = choice.slice(0, -1);
  const best = [...pages].sort((a, b) => b.clicks - a.clicks).find((p) => p.page.startsWith(prefix));
  return best ? best.page : null;
}

/** Asks for the link of `page` and opens it in a new tab; answers the server's answer. */
export async function openOverlay(page) {
  const link = await api("POST", "/api/heatmap/overlay", { page });
  window.open(link.url, "_blank", "noopener");
  return link;
}
