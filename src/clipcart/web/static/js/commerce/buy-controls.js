// Add to cart and Buy now for one product (feed sheet and product page). Buy now with a
// default address and a saved card shows a confirm step with ONE "Pay $X" button; otherwise
// it goes to the checkout page, which asks only for what is missing. Visitors log in first
// and come back to the checkout.

import { ApiError, api, element } from "./shared.js";
import {
  Purchase,
  actionView,
  addToCart,
  checkoutUrl,
  failureText,
  grandTotal,
  amountOf,
  money,
  orderReason,
  orderUrl,
  quoteShops,
  renderQuote,
} from "./buy.js";

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function loginThen(target) {
  window.location.assign(`/login?next=${encodeURIComponent(target)}`);
}

export class BuyControls {
  /**
   * @param {object} options
   * @param {boolean} options.signedIn
   * @param {object} options.source  {video_id?, live_id?, share_code?, showcase_id?}
   * @param {(view: HTMLElement|null) => void} options.showConfirm  show (or hide with null)
   *   the confirm view in place of the product view
   */
  constructor({ signedIn, source = {}, showConfirm }) {
    this.signedIn = signedIn;
    this.source = source;
    this.showConfirm = showConfirm;
    this.variant = null;
    this.quantity = 1;
    this.status = element("p", { class: "field-hint", role: "status", "data-buy-status": true });
    this.minus = element("button", { type: "button", "aria-label": "One fewer", text: "−" });
    this.plus = element("button", { type: "button", "aria-label": "One more", text: "+" });
    this.count = element("output", { class: "qty-value", "aria-live": "polite", text: "1" });
    this.minus.addEventListener("click", () => this.setQuantity(this.quantity - 1));
    this.plus.addEventListener("click", () => this.setQuantity(this.quantity + 1));
    this.addButton = element("button", { class: "button button-ghost", type: "button", text: "Add to cart" });
    this.buyButton = element("button", { class: "button button-primary", type: "button", text: "Buy now" });
    this.addButton.addEventListener("click", () => this.add());
    this.buyButton.addEventListener("click", () => this.buy());
    this.node = element("div", { class: "product-buy-controls" }, [
      element("div", { class: "sheet-qty" }, [
        element("span", { text: "Quantity" }),
        element("span", { class: "stepper", role: "group", "aria-label": "Quantity" }, [this.minus, this.count, this.plus]),
      ]),
      element("div", { class: "product-sheet-actions" }, [this.addButton, this.buyButton]),
      this.status,
    ]);
  }

  setVariant(variant) {
    this.variant = variant;
    this.setQuantity(1);
  }

  get limit() {
    return Math.max(0, Math.min(99, this.variant?.stock ?? 0));
  }

  setQuantity(value) {
    this.quantity = Math.max(1, Math.min(value, Math.max(1, this.limit)));
    this.count.textContent = String(this.quantity);
    this.minus.disabled = this.quantity <= 1;
    this.plus.disabled = this.quantity >= this.limit;
    const soldOut = this.limit <= 0;
    this.addButton.disabled = soldOut;
    this.buyButton.disabled = soldOut;
    this.status.textContent = soldOut ? "This option is sold out." : "";
  }

  async add() {
    if (!this.variant) return;
    this.addButton.disabled = true;
    this.status.textContent = "";
    try {
      await addToCart(this.variant.id, this.quantity, this.source);
      this.status.textContent = "Added to your cart.";
    } catch (error) {
      this.status.textContent = failureText(error);
    } finally {
      this.addButton.disabled = this.limit <= 0;
    }
  }

  async buy() {
    if (!this.variant) return;
    const target = checkoutUrl(this.variant.id, this.quantity, this.source);
    if (!this.signedIn) return loginThen(target);
    this.buyButton.disabled = true;
    this.status.textContent = "";
    const items = [{ variant_id: this.variant.id, quantity: this.quantity, ...(Object.keys(this.source).length ? { source: this.source } : {}) }];
    let quote;
    try {
      quote = await api("POST", "/api/v1/checkout/quote", { items, coupon_codes: [] });
    } catch (error) {
      this.buyButton.disabled = false;
      if (error instanceof ApiError && error.status === 401) return loginThen(target);
      this.status.textContent = failureText(error);
      return;
    }
    this.buyButton.disabled = false;
    const missing = quote.missing ?? [];
    if (missing.length) {
      window.location.assign(target);
      return;
    }
    this.showConfirm(this.confirmView(items, quote));
  }

  confirmView(items, quote) {
    const shipTo = quote.address ?? quote.ship_to;
    const card = quote.payment_method;
    const alert = element("p", { class: "alert alert-error", role: "alert", hidden: true });
    const total = grandTotal(quote);
    const pay = element("button", { class: "button button-primary button-block", type: "button", "data-pay": true, text: `Pay ${money(total)}` });
    const back = element("button", { class: "button button-ghost button-block", type: "button", text: "Back" });
    const purchase = { current: null };
    back.addEventListener("click", () => this.showConfirm(null));
    pay.addEventListener("click", async () => {
      pay.disabled = true;
      back.disabled = true;
      alert.hidden = true;
      pay.textContent = "Paying…";
      if (!purchase.current || purchase.current.done) purchase.current = new Purchase();
      try {
        const outcome = await purchase.current.run({
          items,
          coupon_codes: [],
          expected_total: amountOf(total),
          ...(quote.address_id ? { address_id: quote.address_id } : {}),
          ...(card?.token ? { payment_method: card.token } : {}),
        });
        if (outcome.failures.length) {
          alert.textContent = `${[...new Set(outcome.failures.map(orderReason))].join(" ")} Use another card at checkout.`;
          alert.hidden = false;
          const other = element("a", { class: "button button-secondary button-block", href: checkoutUrl(this.variant.id, this.quantity, this.source), text: "Pay with another card" });
          pay.replaceWith(other);
          return;
        }
        const action = actionView(outcome);
        if (action) {
          pay.replaceWith(action);
          action.querySelector("button").focus();
          return;
        }
        window.location.assign(orderUrl(outcome.orders));
      } catch (error) {
        alert.textContent = failureText(error);
        alert.hidden = false;
        pay.textContent = `Pay ${money(total)}`;
      } finally {
        pay.disabled = false;
        back.disabled = false;
      }
    });
    const summary = [];
    if (shipTo) {
      const text = [shipTo.name, shipTo.line1, [shipTo.city, shipTo.region, shipTo.postal_code].filter(Boolean).join(" "), shipTo.country].filter(Boolean).join(", ");
      summary.push(element("p", { class: "confirm-meta" }, [element("strong", { text: "Ship to " }), element("span", { text })]));
    }
    if (card) {
      summary.push(element("p", { class: "confirm-meta" }, [element("strong", { text: "Pay with " }), element("span", { text: `${capitalise(card.brand ?? "card")} ending ${card.last4 ?? ""}` })]));
    }
    return element("div", { class: "buy-confirm", "data-buy-confirm": true }, [
      element("h3", { class: "sheet-title", text: quoteShops(quote).length > 1 ? "Confirm your orders" : "Confirm your order" }),
      ...summary,
      ...renderQuote(quote),
      alert,
      pay,
      back,
      element("a", { class: "product-sheet-link", href: checkoutUrl(this.variant.id, this.quantity, this.source), text: "Change address, card or add a coupon" }),
    ]);
  }
}
