// Flash deals: the banner with a countdown that ticks each second (fixed-width digits, so
// nothing moves) and how many units are left.

import { api, element } from "./shared.js";
import { money } from "./buy.js";

function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, "0")}:${rest}`;
  return `${String(minutes).padStart(2, "0")}:${rest}`;
}

/** Tick `node` down to `endsAt` (a Date) every second; `onEnd` when it reaches zero.
 *  Answers a function that stops it. */
export function startCountdown(node, endsAt, onEnd) {
  let timer = 0;
  const tick = () => {
    const left = (endsAt.getTime() - Date.now()) / 1000;
    node.textContent = clockText(left);
    node.setAttribute("datetime", `PT${Math.max(0, Math.floor(left))}S`);
    if (left <= 0) {
      window.clearInterval(timer);
      if (onEnd) onEnd();
    }
  };
  tick();
  timer = window.setInterval(tick, 1000);
  return () => window.clearInterval(timer);
}

const dealCache = new Map();

/** The live deals of a product's variants ({variant_id: deal}), asked once per product. */
export function loadDeals(productId) {
  if (!dealCache.has(productId)) {
    dealCache.set(
      productId,
      api("GET", `/p/${productId}/deals`).then((answer) => answer.deals ?? {}, () => ({})),
    );
    // Forget it after a while so a countdown reopened later is fresh.
    window.setTimeout(() => dealCache.delete(productId), 30_000);
  }
  return dealCache.get(productId);
}

/** The active deal of one variant of a product, or null when none. */
export async function loadDeal(productId, variantId) {
  return (await loadDeals(productId))[variantId] ?? null;
}

function endOf(deal) {
  if (typeof deal.seconds_left === "number") return new Date(Date.now() + deal.seconds_left * 1000);
  return new Date(deal.ends_at);
}

/** The deal banner: "Flash deal", the countdown, "N left"; `onEnd` when time is up. */
export function dealBanner(deal, currency, regularPrice, onEnd) {
  const countdown = element("time", { class: "deal-countdown", "data-deal-countdown": true });
  const left = Number(deal.remaining ?? deal.quantity - (deal.sold ?? 0));
  const banner = element("div", { class: "deal-banner", "data-deal": true }, [
    element("span", {}, [
      element("span", { text: "Flash deal " }),
      element("strong", { text: money(deal.deal_price, currency) }),
      regularPrice ? element("span", { class: "deal-was", text: ` ${regularPrice}` }) : null,
    ]),
    element("span", { class: "deal-left", "data-deal-left": true, text: `${left} left` }),
    element("span", {}, [element("span", { text: "Ends in " }), countdown]),
  ]);
  banner.stop = startCountdown(countdown, endOf(deal), onEnd);
  return banner;
}
