// The home feed: plays videos one screen at a time, wires the overlay buttons and sheets,
// loads more videos as the viewer nears the end, and reports what happened.

import { api, goToLogin } from "./api.js";
import { EventQueue } from "./events.js";
import { FeedPlayer } from "./player.js";
import { CommentsSheet, ProductSheet, ShareSheet } from "./sheets.js";

const feed = document.getElementById("feed");
const list = feed?.querySelector("[data-feed-list]");

function setCounts(videoId, counts) {
  if (!counts) return;
  for (const item of document.querySelectorAll(`.feed-item[data-video-id="${videoId}"]`)) {
    for (const [name, value] of Object.entries(counts)) {
      const node = item.querySelector(`[data-count="${name}"]`);
      if (node) node.textContent = String(value);
    }
  }
}

function start() {
  const signedIn = feed.dataset.signedIn === "true";
  const events = new EventQueue(feed.dataset.tab);
  const player = new FeedPlayer(list, events, { onActivate: maybeLoadMore });
  const productSheet = new ProductSheet(document.getElementById("product-sheet"), events);
  const comments = new CommentsSheet(document.getElementById("comments-sheet"), events, { onCount: setCounts });
  const share = new ShareSheet(document.getElementById("share-sheet"), events, { onCount: setCounts });
  let nextCursor = feed.dataset.nextCursor;
  let loading = false;

  // The "More videos" link is for visitors without JavaScript; here items load on scroll.
  feed.querySelector("[data-feed-more]")?.remove();

  async function maybeLoadMore(item) {
    const items = player.items();
    if (!nextCursor || loading || items.indexOf(item) < items.length - 3) return;
    loading = true;
    try {
      const query = new URLSearchParams({ tab: feed.dataset.tab, cursor: nextCursor, offset: String(items.length) });
      const response = await fetch(`/feed/items?${query}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      const batch = html.querySelector(".feed-batch");
      nextCursor = batch?.dataset.nextCursor ?? "";
      const added = batch ? [...batch.querySelectorAll(".feed-item")] : [];
      list.append(...added);
      player.adopt(added);
    } finally {
      loading = false;
    }
  }

  async function toggle(button, path, countName, eventType) {
    const item = button.closest(".feed-item");
    const videoId = item.dataset.videoId;
    const on = button.getAttribute("aria-pressed") !== "true";
    const count = item.querySelector(`[data-count="${countName}"]`);
    button.setAttribute("aria-pressed", String(on));
    count.textContent = String(Math.max(0, Number(count.textContent) + (on ? 1 : -1)));
    try {
      const answer = await api(on ? "POST" : "DELETE", `/api/v1/videos/${videoId}/${path}`);
      setCounts(videoId, answer?.counts);
      if (on && eventType) events.record(eventType, { video_id: videoId });
    } catch (error) {
      button.setAttribute("aria-pressed", String(!on));
      count.textContent = String(Math.max(0, Number(count.textContent) + (on ? -1 : 1)));
      if (error.status === 401) goToLogin();
    }
  }

  async function follow(button) {
    const handle = button.dataset.handle;
    const on = button.getAttribute("aria-pressed") !== "true";
    const buttons = document.querySelectorAll(`.feed-follow[data-handle="${handle}"]`);
    const show = (state) => {
      for (const each of buttons) {
        each.setAttribute("aria-pressed", String(state));
        each.textContent = state ? "Following" : "Follow";
        each.setAttribute("aria-label", `${state ? "Following" : "Follow"} @${handle}`);
      }
    };
    show(on);
    try {
      await api(on ? "POST" : "DELETE", `/api/v1/users/${encodeURIComponent(handle)}/follow`);
      const videoId = button.closest(".feed-item")?.dataset.videoId;
      if (on) events.record("follow", { target_id: button.dataset.userId, video_id: videoId });
    } catch (error) {
      show(!on);
      if (error.status === 401) goToLogin();
    }
  }

  feed.addEventListener("click", (event) => {
    const control = event.target.closest("[data-action]");
    if (!control || !feed.contains(control)) return;
    const item = control.closest(".feed-item");
    const action = control.dataset.action;
    if (action === "sound") return; // the player handles it
    if (["like", "save", "follow"].includes(action) && !signedIn) {
      event.preventDefault();
      goToLogin();
      return;
    }
    if (action === "like") toggle(control, "like", "likes", "like");
    else if (action === "save") toggle(control, "save", "saves", null);
    else if (action === "follow") follow(control);
    else if (action === "comments") comments.open(item.dataset.videoId);
    else if (action === "share") share.open(item.dataset.videoId, item.querySelector(".feed-permalink").getAttribute("href"));
    else if (action === "product") {
      event.preventDefault();
      events.record("chip_tap", { product_id: control.dataset.productId, video_id: item.dataset.videoId });
      productSheet.open(control.dataset.productId, item.dataset.videoId);
    }
  });

  // Sheets pause nothing; closing one returns the keyboard to the feed.
  for (const dialog of document.querySelectorAll("dialog.sheet")) {
    dialog.addEventListener("close", () => player.active?.focus?.());
  }

  player.adopt(player.items());
}

if (feed && list) start();
