// A conversation's page: every 5 seconds, show new messages without reloading. Sending stays a
// plain form POST (then a redirect), so the page works without this file.

import { api } from "../commerce/shared.js";

const POLL_MS = 5000;

function cardLink(href, kind, label) {
  const link = document.createElement("a");
  link.className = "message-card";
  link.href = href;
  const body = document.createElement("span");
  const kindNode = document.createElement("span");
  kindNode.className = "message-card-kind";
  kindNode.textContent = kind;
  body.append(kindNode, ` ${label}`);
  link.append(body);
  return link;
}

function messageNode(message, otherName) {
  const item = document.createElement("li");
  item.className = `message ${message.mine ? "message-mine" : "message-theirs"}`;
  item.dataset.seq = String(message.seq);
  const who = document.createElement("p");
  who.className = "visually-hidden";
  who.textContent = `${message.mine ? "You" : otherName}:`;
  item.append(who);
  if (message.product) {
    item.append(cardLink(message.product.url, "Product", message.product.title));
  }
  if (message.order) {
    item.append(cardLink(message.order.url, "Order", `${message.order.number} · ${message.order.status}`));
  }
  const text = document.createElement("p");
  text.className = "message-text";
  text.textContent = message.text;
  const meta = document.createElement("p");
  meta.className = "message-meta";
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = new Date(message.created_at).toLocaleString([], {
    day: "2-digit",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  meta.append(time);
  item.append(text, meta);
  return item;
}

function start() {
  const thread = document.querySelector("[data-conversation]");
  const list = document.querySelector("[data-message-list]");
  if (!thread || !list) return;
  // Only the newest page polls: an older page would jump.
  if (new URLSearchParams(window.location.search).has("cursor")) return;
  const id = thread.dataset.conversation;
  let lastSeq = Number(thread.dataset.lastSeq || "0");
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  thread.append(status);

  async function poll() {
    if (document.hidden) return;
    try {
      const data = await api("GET", `/api/v1/conversations/${id}?limit=50`);
      const fresh = data.messages.filter((m) => m.seq > lastSeq).reverse();
      if (!fresh.length) return;
      for (const message of fresh) {
        list.append(messageNode(message, data.other.name));
        lastSeq = Math.max(lastSeq, message.seq);
      }
      const theirs = fresh.filter((m) => !m.mine).length;
      if (theirs) status.textContent = `${theirs} new ${theirs === 1 ? "message" : "messages"}`;
      list.lastElementChild?.scrollIntoView({ block: "end", behavior: "smooth" });
    } catch {
      // Try again at the next tick (a lost connection, a logged-out session).
    }
  }

  window.setInterval(poll, POLL_MS);
  document.getElementById("latest")?.scrollIntoView({ block: "end" });
}

start();
