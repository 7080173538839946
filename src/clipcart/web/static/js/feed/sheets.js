// The feed's bottom sheets: a tagged product, a video's comments, and sharing a video.

import { api, goToLogin } from "./api.js";
import { BuyControls } from "../commerce/buy-controls.js";
import { dealBanner, loadDeal } from "../commerce/deal.js";
import { money } from "../commerce/buy.js";

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** Wire a <dialog> sheet: its close button, and a tap on the backdrop closes it. */
function prepare(dialog) {
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  return dialog;
}

const STOCK_TEXT = {
  in_stock: "In stock",
  low_stock: "Only a few left",
  out_of_stock: "Sold out",
};

/** The product sheet: images, price, variant picker, stock, flash deal, Add to cart, Buy now. */
export class ProductSheet {
  constructor(dialog, events) {
    this.dialog = prepare(dialog);
    this.body = dialog.querySelector("[data-product-body]");
    this.title = dialog.querySelector(".sheet-title");
    this.events = events;
  }

  async open(productId, videoId) {
    this.title.textContent = "Product";
    this.body.replaceChildren(element("p", { class: "sheet-status", role: "status", text: "Loading…" }));
    this.dialog.dataset.productId = productId;
    this.videoId = videoId;
    this.dialog.showModal();
    this.events.record("sheet_open", { product_id: productId, video_id: videoId });
    try {
      this.render(await api("GET", `/api/v1/products/${productId}`));
    } catch (error) {
      this.body.replaceChildren(
        element("p", { class: "sheet-status", role: "alert", text: "This product cannot be shown right now. Try again in a moment." }),
      );
    }
  }

  render(product) {
    this.title.textContent = product.title;
    const images = element("ul", { class: "product-sheet-images", "aria-label": "Pictures" });
    for (const image of product.images) {
      images.append(element("li", {}, [
        element("img", { src: image.urls["600"], alt: image.alt || product.title, width: 160, height: 160, loading: "lazy" }),
      ]));
    }
    const price = element("p", { class: "product-sheet-price", "data-price": true });
    const stock = element("p", { class: "product-sheet-stock", "data-stock": true, role: "status" });
    const variants = product.variants;
    const picker = element("fieldset", { class: "product-sheet-variants" }, [
      element("legend", { text: product.options.length ? product.options.join(" / ") : "Option" }),
    ]);
    const deal = element("div", { class: "product-sheet-deal", "data-deal-slot": true });
    const controls = new BuyControls({
      signedIn: document.getElementById("feed")?.dataset.signedIn === "true",
      source: this.videoId ? { video_id: this.videoId } : {},
      showConfirm: (view) => this.showConfirm(view),
    });
    let dealRequest = 0;
    const showDeal = async (variant) => {
      const asked = ++dealRequest;
      deal.firstChild?.stop?.();
      deal.replaceChildren();
      const found = await loadDeal(product.id, variant.id);
      if (!found || asked !== dealRequest) return;
      price.textContent = money(found.deal_price, product.currency);
      deal.replaceChildren(dealBanner(found, product.currency, variant.price.formatted, () => {
        price.textContent = variant.price.formatted;
        deal.replaceChildren();
      }));
    };
    const choose = (variant) => {
      price.textContent = variant.price.formatted;
      stock.textContent = STOCK_TEXT[variant.stock_state] ?? "";
      stock.dataset.state = variant.stock_state;
      controls.setVariant(variant);
      showDeal(variant);
    };
    let chosen = variants.find((variant) => variant.stock > 0) ?? variants[0];
    for (const variant of variants) {
      const id = `variant-${variant.id}`;
      const input = element("input", {
        type: "radio",
        name: "variant",
        id,
        value: variant.id,
        checked: variant === chosen,
        disabled: variant.stock <= 0,
      });
      input.addEventListener("change", () => choose(variant));
      const label = element("label", { class: "variant-option", for: id }, [
        input,
        element("span", { text: variant.title }),
      ]);
      picker.append(label);
    }
    if (chosen) choose(chosen);
    this.productView = [
      ...(product.images.length ? [images] : []),
      element("p", { class: "product-sheet-shop", text: `Sold by ${product.shop.name}` }),
      price,
      deal,
      stock,
      ...(variants.length > 1 ? [picker] : []),
      controls.node,
      element("a", { class: "product-sheet-link", href: product.url, text: "See the full product page" }),
    ];
    this.body.replaceChildren(...this.productView);
  }

  /** Show Buy now's confirm step in the sheet, or (null) go back to the product. */
  showConfirm(view) {
    if (view) {
      this.body.replaceChildren(view);
      view.querySelector("[data-pay]")?.focus();
    } else {
      this.body.replaceChildren(...this.productView);
    }
  }
}

function timeAgo(iso) {
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** The comments sheet: the list (with replies on demand), posting and replying. */
export class CommentsSheet {
  constructor(dialog, events, { onCount } = {}) {
    this.dialog = prepare(dialog);
    this.list = dialog.querySelector("[data-comment-list]");
    this.status = dialog.querySelector("[data-comment-status]");
    this.form = dialog.querySelector("[data-comment-form]");
    this.events = events;
    this.onCount = onCount;
    this.replyTo = null;
    if (this.form) {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.post();
      });
      this.form.querySelector("[data-cancel-reply]").addEventListener("click", () => this.reply(null));
    }
  }

  async open(videoId) {
    this.videoId = videoId;
    this.reply(null);
    this.list.replaceChildren();
    this.status.textContent = "Loading comments…";
    this.dialog.showModal();
    try {
      const page = await api("GET", `/api/v1/videos/${videoId}/comments?limit=50`);
      for (const comment of page.items) this.list.append(this.render(comment));
      this.status.textContent = page.items.length ? "" : "No comments yet. Say something nice.";
    } catch {
      this.status.textContent = "The comments cannot be loaded right now. Try again in a moment.";
    }
  }

  render(comment) {
    const item = element("li", { class: "comment", "data-comment-id": comment.id }, [
      element("p", { class: "comment-meta" }, [
        element("a", { href: comment.author.url, text: `@${comment.author.handle}` }),
        element("span", { class: "feed-muted", text: ` · ${timeAgo(comment.created_at)}` }),
        ...(comment.is_pinned ? [element("span", { class: "comment-pinned", text: "Pinned" })] : []),
      ]),
      element("p", { class: "comment-body", text: comment.body }),
    ]);
    if (!comment.parent_id) {
      const actions = element("p", { class: "comment-actions" });
      if (this.form) {
        const reply = element("button", { type: "button", class: "link-button", text: "Reply" });
        reply.addEventListener("click", () => this.reply(comment));
        actions.append(reply);
      }
      const replies = element("ul", { class: "comment-replies" });
      if (comment.reply_count > 0) {
        const more = element("button", {
          type: "button",
          class: "link-button",
          text: `View ${comment.reply_count} ${comment.reply_count === 1 ? "reply" : "replies"}`,
        });
        more.addEventListener("click", async () => {
          more.remove();
          const page = await api("GET", `/api/v1/comments/${comment.id}/replies?limit=50`).catch(
            () => ({ items: [] }),
          );
          replies.replaceChildren(...page.items.map((reply) => this.render(reply)));
        });
        actions.append(more);
      }
      item.append(actions, replies);
    }
    return item;
  }

  reply(comment) {
    if (!this.form) return;
    this.replyTo = comment;
    const note = this.form.querySelector("[data-replying]");
    note.hidden = !comment;
    if (comment) {
      this.form.querySelector("[data-replying-to]").textContent = `@${comment.author.handle}`;
      this.form.querySelector("input").focus();
    }
  }

  async post() {
    const input = this.form.querySelector("input[name=body]");
    const body = input.value.trim();
    if (!body) return;
    const button = this.form.querySelector("button[type=submit]");
    button.disabled = true;
    this.status.textContent = "";
    try {
      const payload = { body };
      if (this.replyTo) payload.parent_id = this.replyTo.id;
      const created = await api("POST", `/api/v1/videos/${this.videoId}/comments`, payload);
      const node = this.render(created.comment);
      if (this.replyTo) {
        this.list.querySelector(`[data-comment-id="${this.replyTo.id}"] .comment-replies`)?.append(node);
      } else {
        this.list.prepend(node);
      }
      input.value = "";
      this.reply(null);
      this.events.record("comment", { video_id: this.videoId });
      if (this.onCount) this.onCount(this.videoId, created.counts);
    } catch (error) {
      if (error.status === 401) return goToLogin();
      this.status.textContent = error.message || "The comment was not posted. Try again.";
    } finally {
      button.disabled = false;
    }
  }
}

/** The share sheet: a link that credits the sharer, copy, and the Web Share API. */
export class ShareSheet {
  constructor(dialog, events, { onCount } = {}) {
    this.dialog = prepare(dialog);
    this.link = dialog.querySelector(".share-link");
    this.status = dialog.querySelector("[data-share-status]");
    this.copy = dialog.querySelector("[data-share-copy]");
    this.native = dialog.querySelector("[data-share-native]");
    this.events = events;
    this.onCount = onCount;
    this.native.hidden = typeof navigator.share !== "function";
    this.copy.addEventListener("click", () => this.copyLink());
    this.native.addEventListener("click", () => this.shareNatively());
  }

  async open(videoId, pageUrl) {
    this.videoId = videoId;
    this.status.textContent = "";
    this.link.value = new URL(pageUrl, location.origin).href;
    this.dialog.showModal();
    try {
      const share = await api("POST", `/api/v1/videos/${videoId}/shares`, { channel: "link" });
      this.link.value = new URL(share.url, location.origin).href;
      if (this.onCount) this.onCount(videoId, share.counts);
    } catch (error) {
      // Visitors who are not logged in still get the plain link.
      if (error.status !== 401) this.status.textContent = "Sharing is not available right now.";
    }
  }

  async copyLink() {
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.status.textContent = "Link copied.";
      this.events.record("share", { video_id: this.videoId, channel: "copy_link" });
    } catch {
      this.link.select();
      this.status.textContent = "Select the link and copy it by hand.";
    }
  }

  async shareNatively() {
    try {
      await navigator.share({ url: this.link.value, title: "A video on ClipCart" });
      this.events.record("share", { video_id: this.videoId, channel: "native" });
    } catch {
      // The viewer closed the share menu: nothing to do.
    }
  }
}
