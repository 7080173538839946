// Buying through the JSON API: quote, place (Idempotency-Key kept for retries), pay; the
// confirm step of Buy now; Add to cart. Used by the feed's product sheet, the product page
// and the checkout page.

import { api, ApiError, element, newKey, showCartCount, cartUnits, toast } from "./shared.js";

/** Money as the API sends it ({amount, currency, formatted}) or a bare amount + currency. */
export function money(value, currency) {
  if (value && typeof value === "object") {
    if (value.formatted) return value.formatted;
    return money(value.amount, value.currency);
  }
  const format = new Intl.NumberFormat(document.documentElement.lang || "en", {
    style: "currency",
    currency: currency || "USD",
  });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(Number(value) / 10 ** digits);
}

export function amountOf(value) {
  return value && typeof value === "object" ? Number(value.amount) : Number(value);
}

/** The per-shop parts of a quote (whatever the API calls the list). */
export function quoteShops(quote) {
  return quote?.shops ?? quote?.orders ?? quote?.quotes ?? [];
}

export function grandTotal(quote) {
  return quote?.grand_total ?? quote?.total;
}

/** Render a quote: one block per shop (lines, subtotal, shipping, discount, tax, total)
 *  and the grand total. */
export function renderQuote(quote) {
  const blocks = [];
  const several = quoteShops(quote).length > 1;
  for (const shop of quoteShops(quote)) {
    const name = shop.shop?.name ?? shop.shop_name ?? "Shop";
    const lines = element("ul", { class: "quote-lines" });
    for (const line of shop.lines ?? []) {
      const title = [line.title, line.variant_title].filter(Boolean).join(" · ");
      lines.append(element("li", {}, [
        element("span", { text: `${line.quantity} × ${title}` }),
        element("span", { class: "money", text: money(line.subtotal ?? line.total, shop.currency) }),
      ]));
    }
    const totals = element("dl", { class: "totals" });
    const row = (label, value, extra = "") => {
      totals.append(element("dt", { class: extra, text: label }), element("dd", { class: extra, text: value }));
    };
    row("Subtotal", money(shop.subtotal, shop.currency));
    const shipping = amountOf(shop.shipping);
    row("Shipping", shipping === 0 ? "Free" : money(shop.shipping, shop.currency));
    if (amountOf(shop.discount) > 0) row("Discount", `−${money(shop.discount, shop.currency)}`);
    if (shop.tax !== undefined && amountOf(shop.tax) > 0) {
      row(shop.tax_included || shop.tax_name?.includes("incl") ? `${shop.tax_name || "Tax"} (included)` : shop.tax_name || "Tax", money(shop.tax, shop.currency));
    }
    row(several ? `Total for ${name}` : "Total", money(shop.total, shop.currency), "totals-grand");
    blocks.push(element("section", { class: "shop-quote confirm-shop", "data-shop-quote": true, "aria-label": `Order from ${name}` }, [
      element("h3", { class: "cart-shop-title", text: name }),
      lines,
      totals,
    ]));
  }
  const shops = quoteShops(quote);
  if (shops.length > 1) {
    const totals = element("dl", { class: "totals" }, [
      element("dt", { class: "totals-grand", text: `Total for ${shops.length} orders` }),
      element("dd", { class: "totals-grand", "data-grand-total": true, text: money(grandTotal(quote)) }),
    ]);
    blocks.push(totals);
  }
  return blocks;
}

/** Why placing or paying failed, in words the buyer can act on. */
export function failureText(error) {
  if (!(error instanceof ApiError)) return "We could not reach ClipCart. Check your connection and tap Pay again.";
  const problem = error.problem ?? {};
  if (problem.code === "sold_out") return problem.detail || "Sold out: someone bought the last one.";
  const fields = Array.isArray(problem.errors) ? problem.errors : [];
  if (fields.length) return fields.map((item) => item.message).join(" ");
  return problem.detail || error.message;
}

/** One attempt to buy: placing keeps its Idempotency-Key until the server answers, so a
 *  retried tap after a lost answer never places twice; paying likewise. */
export class Purchase {
  constructor() {
    this.placeKey = newKey();
    this.payKey = newKey();
    this.checkout = null;
    this.done = false;
  }

  /** Place (once) and pay; answers {orders, failures, pending}. Throws ApiError on refusal. */
  async run(body) {
    if (!this.checkout) {
      try {
        this.checkout = await api("POST", "/api/v1/checkout", body, { "Idempotency-Key": this.placeKey });
      } catch (error) {
        if (error instanceof ApiError) this.done = true; // a definite answer: next try is new
        throw error;
      }
    }
    let paid;
    try {
      paid = await api("POST", `/api/v1/checkout/${this.checkout.checkout_id}/pay`, body.payment_method ? { payment_method: body.payment_method } : {}, { "Idempotency-Key": this.payKey });
    } catch (error) {
      if (error instanceof ApiError) this.done = true;
      throw error;
    }
    this.done = true;
    const orders = paid.orders ?? this.checkout.orders ?? [];
    const failures = orders.filter((order) => ["cancelled", "failed"].includes(order.status) || order.payment_status === "failed");
    const pending = orders.filter((order) => order.status === "pending_payment");
    return { orders, failures, pending, checkout: this.checkout, paid };
  }
}

export function orderReason(order) {
  return order.reason || order.failure_message || order.message || order.payment?.failure_message || "The payment did not go through.";
}

/** Where to go after paying: the order (one shop) or the orders list (several). */
export function orderUrl(orders) {
  if (orders.length === 1) return `/orders/${orders[0].order_id ?? orders[0].id}`;
  return "/orders";
}

/** Add a variant to the cart; shows "Added" and the new count. */
export async function addToCart(variantId, quantity, source) {
  const body = { variant_id: variantId, quantity };
  if (source && Object.keys(source).length) body.source = source;
  const result = await api("POST", "/api/v1/cart/items", body);
  sessionStorage.setItem("clipcart-cart", "1");
  try {
    const cart = result && Array.isArray(result.shops) ? result : await api("GET", "/api/v1/cart");
    showCartCount(cartUnits(cart));
  } catch {
    // the count is a nicety
  }
  toast("Added to your cart");
  return result;
}

/** The checkout page's address for Buy now: `/checkout?variant=…&quantity=…&video=…&showcase=…`. */
export function checkoutUrl(variantId, quantity, source = {}) {
  const params = new URLSearchParams({ variant: variantId, quantity: String(quantity) });
  if (source.video_id) params.set("video", source.video_id);
  if (source.live_id) params.set("live", source.live_id);
  if (source.share_code) params.set("share", source.share_code);
  if (source.showcase_id) params.set("showcase", source.showcase_id);
  return `/checkout?${params}`;
}

/** A payment that needs the buyer's extra step (3-D Secure): the bank's instructions and a
 *  button that confirms it, then goes to the orders. */
export function actionView(outcome) {
  const waiting = outcome.orders.filter((order) => order.requires_action);
  if (!waiting.length) return null;
  const button = element("button", { class: "button button-primary button-block", type: "button", text: "Confirm with your bank" });
  const note = element("p", { class: "field-hint", role: "status" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      for (const order of waiting) {
        await api("POST", `/api/v1/payments/intents/${order.requires_action.intent_id}/confirm`, {});
      }
      window.location.assign(orderUrl(outcome.orders));
    } catch (error) {
      note.textContent = failureText(error);
      button.disabled = false;
    }
  });
  return element("div", { class: "alert alert-info", role: "alert", "data-requires-action": true }, [
    element("p", { text: waiting[0].message || "Your bank needs you to confirm this payment." }),
    button,
    note,
  ]);
}
