// The unread messages count on the header's Messages link (the page works without it).

import { showUnreadBadge } from "../commerce/shared.js";

showUnreadBadge("[data-messages-badge]", "/api/v1/me/unread-messages", (link, unread) =>
  link?.setAttribute("aria-label", `Messages, ${unread} unread`),
);
