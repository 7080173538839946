// The unread messages count on the header's Messages link (the page works without it).

import { api } from "../commerce/shared.js";

async function showUnreadMessages() {
  const badge = document.querySelector("[data-messages-badge]");
  if (!badge) return;
  try {
    const { unread } = await api("GET", "/api/v1/me/unread-messages");
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread <= 0;
    badge.closest("a")?.setAttribute("aria-label", `Messages, ${unread} unread`);
  } catch {
    // No badge when the count cannot be read.
  }
}

showUnreadMessages();
