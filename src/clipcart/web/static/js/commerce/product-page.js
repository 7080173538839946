// The product page: Add to cart with a toast, Buy now (confirm sheet or checkout) and the
// flash deal of the chosen variant. Without this file the buy form posts to /cart/items.

import { EventQueue } from "../feed/events.js";
import { BuyControls } from "./buy-controls.js";
import { dealBanner, loadDeal } from "./deal.js";
import { element } from "./shared.js";
import { money } from "./buy.js";

const form = document.querySelector("[data-buy-form]");
const dataNode = document.getElementById("variant-data");

function sheet() {
  let dialog = document.getElementById("buy-sheet");
  if (dialog) return dialog;
  const close = element("button", { class: "sheet-close", type: "button", "aria-label": "Close", text: "×" });
  dialog = element("dialog", { class: "sheet", id: "buy-sheet", "aria-labelledby": "buy-sheet-title" }, [
    element("div", { class: "sheet-head" }, [element("h2", { class: "sheet-title", id: "buy-sheet-title", text: "Buy now" }), close]),
    element("div", { class: "sheet-body", "data-buy-sheet-body": true }),
  ]);
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  document.body.append(dialog);
  return dialog;
}

if (form && dataNode) {
  const variants = new Map(JSON.parse(dataNode.textContent).map((variant) => [variant.id, variant]));
  const dealSlot = document.querySelector("[data-product-deal]");
  const priceNode = document.getElementById("variant-price");
  const params = new URLSearchParams(location.search);
  const source = {};
  if (params.get("video")) source.video_id = params.get("video");
  const share = params.get("s") || params.get("share");
  if (share) source.share_code = share;
  const showcase = params.get("showcase");
  if (showcase) {
    // Opened from a creator's showcase: the tap is the touch a later purchase is credited to.
    source.showcase_id = showcase;
    const productId = document.querySelector("[data-product]").dataset.product;
    const touches = new EventQueue("profile");
    touches.record("chip_tap", { product_id: productId, target_id: showcase });
    // A commission rests on this tap: send it now, not in a few seconds or as the page goes
    // away (a beacon on navigation can come too late for the order it should be credited to).
    touches.flush();
  }
  const controls = new BuyControls({
    signedIn: form.dataset.signedIn === "true",
    source,
    showConfirm: (view) => {
      const dialog = sheet();
      if (!view) return dialog.close();
      dialog.querySelector("[data-buy-sheet-body]").replaceChildren(view);
      if (!dialog.open) dialog.showModal();
      view.querySelector("[data-pay]")?.focus();
    },
  });
  let asked = 0;
  const choose = async (variant) => {
    controls.setVariant(variant);
    const mine = ++asked;
    dealSlot.firstChild?.stop?.();
    dealSlot.replaceChildren();
    const deal = await loadDeal(document.querySelector("[data-product]").dataset.product, variant.id);
    if (!deal || mine !== asked) return;
    priceNode.textContent = money(deal.deal_price, form.dataset.currency);
    dealSlot.replaceChildren(dealBanner(deal, form.dataset.currency, variant.price, () => {
      priceNode.textContent = variant.price;
      dealSlot.replaceChildren();
    }));
  };
  form.replaceWith(controls.node);
  controls.node.classList.add("product-buy-live");
  const first = variants.get(form.querySelector("[data-buy-variant]").value) ?? [...variants.values()][0];
  if (first) choose(first);
  document.querySelector("[data-variant-picker]")?.addEventListener("change", (event) => {
    const variant = variants.get(event.target.value);
    if (variant) choose(variant);
  });
}
