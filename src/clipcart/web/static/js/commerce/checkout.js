// The checkout page: choose or add an address and a card, apply coupons, see one order per
// shop with its totals, and pay exactly the total shown (the server checks it).

import { api, ApiError, element } from "./shared.js";
import { Purchase, actionView, failureText, grandTotal, money, amountOf, orderReason, orderUrl, renderQuote } from "./buy.js";

const page = document.querySelector("[data-checkout]");
const data = JSON.parse(document.getElementById("checkout-data").textContent);
const alertBox = document.getElementById("checkout-alert");
const quoteBox = page.querySelector("[data-quote]");
const payButton = page.querySelector("[data-pay]");
const payHint = page.querySelector("[data-pay-hint]");
const addressForm = document.getElementById("address-form");
const cardForm = document.getElementById("card-form");
const couponForm = document.getElementById("coupon-form");
const couponList = page.querySelector("[data-coupon-list]");

const state = { quote: null, coupons: [...(data.coupons ?? [])], purchase: null, busy: false };

function showAlert(text, kind = "error") {
  alertBox.className = `alert alert-${kind}`;
  alertBox.textContent = text;
  alertBox.hidden = !text;
  if (text) alertBox.focus({ preventScroll: false });
}

function chosen(name) {
  return page.querySelector(`input[name="${name}"]:checked`)?.value ?? "new";
}

/** Per-field messages under the inputs of `form` ({field, message} from a 422). */
function showFieldErrors(form, errors, idFor) {
  for (const old of form.querySelectorAll("[data-js-error]")) old.remove();
  for (const field of form.querySelectorAll(".field-invalid")) field.classList.remove("field-invalid");
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-errormessage");
  }
  let first = null;
  const unplaced = [];
  for (const { field, message } of errors) {
    const input = document.getElementById(idFor(field));
    if (!input || !form.contains(input)) {
      unplaced.push(message);
      continue;
    }
    const box = input.closest(".field");
    box.classList.add("field-invalid");
    const id = `${input.id}-js-error`;
    if (!document.getElementById(id)) {
      box.append(element("p", { class: "field-error", id, "data-js-error": true, text: message }));
    }
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", id);
    first ??= input;
  }
  first?.focus();
  return unplaced;
}

function body() {
  const result = { items: data.items ?? null, coupon_codes: state.coupons };
  const address = chosen("address_id");
  if (address !== "new") result.address_id = address;
  return result;
}

function updatePay() {
  const total = state.quote ? grandTotal(state.quote) : null;
  const needsAddress = chosen("address_id") === "new";
  const needsCard = chosen("payment_method") === "new";
  payButton.textContent = total ? `Pay ${money(total)}` : "Pay";
  payButton.disabled = state.busy || !state.quote || needsAddress || needsCard || quoteShopsEmpty();
  payHint.textContent = needsAddress
    ? "Add where to ship it first."
    : needsCard
      ? "Add a card first."
      : "";
}

function quoteShopsEmpty() {
  const shops = state.quote?.shops ?? state.quote?.orders ?? [];
  return shops.length === 0;
}

async function refreshQuote() {
  try {
    state.quote = await api("POST", "/api/v1/checkout/quote", body());
    const blocks = renderQuote(state.quote);
    quoteBox.replaceChildren(...(blocks.length ? blocks : [element("p", { class: "muted", text: "There is nothing to buy: your cart is empty." })]));
  } catch (error) {
    state.quote = null;
    const problem = error instanceof ApiError ? error.problem ?? {} : {};
    const couponError = (problem.errors ?? []).find((item) => item.field === "coupon_codes");
    if (couponError && state.coupons.length) {
      // The last coupon was refused: say why, and take it off again.
      const refused = state.coupons.pop();
      renderCoupons();
      showFieldErrors(couponForm, [{ field: "code", message: couponError.message }], () => "coupon-code");
      document.getElementById("coupon-code").value = refused;
      return refreshQuote();
    }
    quoteBox.replaceChildren(element("p", { class: "alert alert-error", text: failureText(error) }));
  } finally {
    updatePay();
  }
  return state.quote;
}

function renderCoupons() {
  couponList.replaceChildren(...state.coupons.map((code) => {
    const remove = element("button", { type: "button", "aria-label": `Remove coupon ${code}`, text: "×" });
    remove.addEventListener("click", () => {
      state.coupons = state.coupons.filter((other) => other !== code);
      renderCoupons();
      refreshQuote();
    });
    return element("li", { class: "coupon-chip" }, [element("span", { text: code }), remove]);
  }));
}

function toggleForms() {
  addressForm.hidden = chosen("address_id") !== "new";
  cardForm.hidden = chosen("payment_method") !== "new";
  updatePay();
}

page.addEventListener("change", (event) => {
  if (event.target.name === "address_id") {
    toggleForms();
    if (event.target.value !== "new") refreshQuote();
  } else if (event.target.name === "payment_method") {
    toggleForms();
  }
});

addressForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(addressForm));
  const button = addressForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const saved = await api("POST", "/api/v1/addresses", { ...fields, is_default: true });
    showFieldErrors(addressForm, [], () => "");
    const list = page.querySelector("[data-address-list]");
    const text = [saved.name, saved.line1, [saved.city, saved.region, saved.postal_code].filter(Boolean).join(" "), saved.country].join(", ");
    const input = element("input", { type: "radio", name: "address_id", value: saved.id, checked: true });
    list.prepend(element("li", {}, [element("label", { class: "choice" }, [input, element("span", { text: text })])]));
    list.hidden = false;
    input.checked = true;
    toggleForms();
    await refreshQuote();
  } catch (error) {
    const errors = error instanceof ApiError ? error.problem?.errors ?? [] : [];
    const rest = showFieldErrors(addressForm, errors, (field) => `f-${field}`);
    if (!errors.length || rest.length) showAlert(rest.join(" ") || failureText(error));
  } finally {
    button.disabled = false;
  }
});

function parseExpiry(text) {
  const match = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(text);
  if (!match) return null;
  const year = Number(match[2].length === 2 ? `20${match[2]}` : match[2]);
  return { exp_month: Number(match[1]), exp_year: year };
}

const CARD_FIELDS = { number: "card-number", exp_month: "card-exp", exp_year: "card-exp", cvc: "card-cvc" };

cardForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const number = document.getElementById("card-number").value.replace(/[\s-]/g, "");
  const expiry = parseExpiry(document.getElementById("card-exp").value);
  const cvc = document.getElementById("card-cvc").value.trim();
  const local = [];
  if (!/^\d{12,19}$/.test(number)) local.push({ field: "number", message: "Enter the card number: 12 to 19 digits." });
  if (!expiry || expiry.exp_month < 1 || expiry.exp_month > 12) local.push({ field: "exp_month", message: "Enter the expiry date like 12/29." });
  if (!/^\d{3,4}$/.test(cvc)) local.push({ field: "cvc", message: "Enter the 3 or 4 digits on the back of the card." });
  if (local.length) {
    showFieldErrors(cardForm, local, (field) => CARD_FIELDS[field]);
    return;
  }
  const button = cardForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    // The number goes to the provider through the payments API; only the token comes back.
    const card = await api("POST", "/api/v1/payments/methods", { number, cvc, ...expiry });
    cardForm.reset();
    showFieldErrors(cardForm, [], () => "");
    const list = page.querySelector("[data-card-list]");
    const input = element("input", { type: "radio", name: "payment_method", value: card.token, checked: true });
    const label = `${card.brand.charAt(0).toUpperCase()}${card.brand.slice(1)} ending ${card.last4}`;
    list.prepend(element("li", {}, [element("label", { class: "choice" }, [input, element("span", { text: label })])]));
    list.hidden = false;
    input.checked = true;
    toggleForms();
  } catch (error) {
    const errors = error instanceof ApiError ? error.problem?.errors ?? [] : [];
    if (errors.length) showFieldErrors(cardForm, errors, (field) => CARD_FIELDS[field] ?? "card-number");
    else showFieldErrors(cardForm, [{ field: "number", message: failureText(error) }], () => "card-number");
  } finally {
    button.disabled = false;
  }
});

couponForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("coupon-code");
  const code = input.value.trim().toUpperCase();
  showFieldErrors(couponForm, [], () => "");
  if (!code) {
    showFieldErrors(couponForm, [{ field: "code", message: "Enter a coupon code." }], () => "coupon-code");
    return;
  }
  if (!state.coupons.includes(code)) state.coupons.push(code);
  input.value = "";
  renderCoupons();
  await refreshQuote();
});

payButton.addEventListener("click", async () => {
  if (state.busy || !state.quote) return;
  state.busy = true;
  updatePay();
  showAlert("");
  payButton.textContent = "Paying…";
  if (!state.purchase || state.purchase.done) state.purchase = new Purchase();
  const shown = amountOf(grandTotal(state.quote));
  try {
    const outcome = await state.purchase.run({
      ...body(),
      payment_method: chosen("payment_method"),
      expected_total: shown,
    });
    if (outcome.failures.length) {
      const reasons = [...new Set(outcome.failures.map(orderReason))].join(" ");
      showAlert(`${reasons} Choose another card or add a new one, then tap Pay again.`);
      await refreshQuote();
      return;
    }
    const action = actionView(outcome);
    if (action) {
      showAlert("");
      alertBox.before(action);
      action.querySelector("button").focus();
      return;
    }
    window.location.assign(orderUrl(outcome.orders));
  } catch (error) {
    const problem = error instanceof ApiError ? error.problem ?? {} : {};
    if (problem.code === "prices_changed" && problem.quote) {
      state.quote = problem.quote;
      quoteBox.replaceChildren(...renderQuote(state.quote));
      showAlert(`${problem.detail || "Prices changed."} The new total is ${money(grandTotal(state.quote))}: check it and tap Pay again.`);
    } else if (problem.code === "prices_changed") {
      await refreshQuote();
      showAlert(`${problem.detail || "Prices changed."} Check the new total and tap Pay again.`);
    } else {
      const couponError = (problem.errors ?? []).find((item) => item.field === "coupon_codes");
      if (couponError) showFieldErrors(couponForm, [{ field: "code", message: couponError.message }], () => "coupon-code");
      showAlert(failureText(error));
      if (error instanceof ApiError) await refreshQuote();
    }
  } finally {
    state.busy = false;
    updatePay();
  }
});

toggleForms();
renderCoupons();
refreshQuote();
// The forms' buttons come disabled: submitted before this script listened, a form would go
// to the page's own URL as a GET, the address in the query string, and the page would reload.
for (const button of document.querySelectorAll("[data-script-enables]")) button.disabled = false;
