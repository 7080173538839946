// The cart count in the top bar and the unread badge on the Inbox tab.

import { api, cartUnits, showCartCount } from "./shared.js";

async function showUnread() {
  const badge = document.querySelector("[data-inbox-badge]");
  if (!badge) return;
  try {
    const { unread } = await api("GET", "/api/v1/notifications/unread-count");
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread <= 0;
    badge.closest("a")?.setAttribute("title", `${unread} unread`);
  } catch {
    // The badge is a nicety: no badge when it cannot be read.
  }
}

async function showCart() {
  if (!document.querySelector("[data-cart-count]")) return;
  if (document.body.dataset.cartCount !== undefined) {
    showCartCount(Number(document.body.dataset.cartCount));
    return;
  }
  // Visitors who never added anything have no cart: do not ask for one on every page.
  const signedIn = Boolean(document.querySelector("[data-inbox-badge]"));
  if (!signedIn && !sessionStorage.getItem("clipcart-cart")) return;
  try {
    showCartCount(cartUnits(await api("GET", "/api/v1/cart")));
  } catch {
    // No count shown when the cart cannot be read.
  }
}

showUnread();
showCart();
