// Small pieces every commerce script uses: the toast, the cart count, idempotency keys.

import { ApiError, csrfToken } from "../feed/api.js";

export { ApiError, csrfToken, goToLogin } from "../feed/api.js";

/** Call the API (extra headers: e.g. Idempotency-Key); the parsed JSON, null for 204;
 *  throws ApiError with the problem+json otherwise (and TypeError when the network fails). */
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

let toastTimer = 0;

/** Show a short message at the bottom of the screen (announced to screen readers). */
export function toast(text) {
  let node = document.getElementById("commerce-toast");
  if (!node) {
    node = document.createElement("p");
    node.id = "commerce-toast";
    node.className = "toast";
    node.setAttribute("role", "status");
    document.body.append(node);
  }
  node.textContent = text;
  node.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    node.hidden = true;
  }, 2500);
}

/** How many units a cart (GET /api/v1/cart) holds, saved-for-later items left out. */
export function cartUnits(cart) {
  if (!cart) return 0;
  if (typeof cart.item_count === "number") return cart.item_count;
  let units = 0;
  for (const shop of cart.shops ?? []) {
    for (const item of shop.items ?? []) units += item.quantity ?? 0;
  }
  return units;
}

/** Put `count` into every cart badge on the page. */
export function showCartCount(count) {
  for (const badge of document.querySelectorAll("[data-cart-count]")) {
    badge.textContent = String(count);
    badge.hidden = count <= 0;
    badge.setAttribute("aria-label", `${count} ${count === 1 ? "item" : "items"} in your cart`);
  }
}

/**
 * Fill the unread badge `selector` from `path` (an API answering `{ unread }`); `describe(n)`
 * labels the badge's link. No badge when there is none on the page or the count cannot be read.
 */
export async function showUnreadBadge(selector, path, describe) {
  const badge = document.querySelector(selector);
  if (!badge) return;
  try {
    const { unread } = await api("GET", path);
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread <= 0;
    describe(badge.closest("a"), unread);
  } catch {
    // The badge is a nicety: none when the count cannot be read.
  }
}

/** A fresh Idempotency-Key: kept by the caller while it retries the same request. */
export function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Create an element with attributes (text: its text) and children. */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
