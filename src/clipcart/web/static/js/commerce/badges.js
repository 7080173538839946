// The cart count in the top bar and the unread badge on the Inbox tab.

import { api, cartUnits, showCartCount, showUnreadBadge } from "./shared.js";

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

showUnreadBadge("[data-inbox-badge]", "/api/v1/notifications/unread-count", (link, unread) =>
  link?.setAttribute("title", `${unread} unread`),
);
showCart();
