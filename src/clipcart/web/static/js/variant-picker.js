// Product page: picking a variant updates its price, compare-at price, stock and SKU in place,
// and the address (so the link shared is the variant seen). Without this, the form reloads.

function stockText(variant) {
  if (variant.stock_state === "out_of_stock") return "Sold out";
  if (variant.stock_state === "low_stock") return `Only ${variant.stock} left`;
  return "In stock";
}

function showVariant(variant) {
  document.getElementById("variant-price").textContent = variant.price;
  const compare = document.getElementById("variant-compare");
  if (variant.compare_at) {
    document.getElementById("variant-compare-value").textContent = variant.compare_at;
    compare.hidden = false;
  } else {
    compare.hidden = true;
  }
  const stock = document.getElementById("variant-stock");
  stock.textContent = stockText(variant);
  stock.className = `stock-state stock-${variant.stock_state}`;
  stock.dataset.state = variant.stock_state;
  document.getElementById("variant-sku").textContent = variant.sku || "—";
  const url = new URL(window.location.href);
  url.searchParams.set("variant", variant.id);
  window.history.replaceState(null, "", url);
}

function enableVariantPicker() {
  const form = document.querySelector("[data-variant-picker]");
  const data = document.getElementById("variant-data");
  if (!form || !data) return;
  const variants = new Map(JSON.parse(data.textContent).map((variant) => [variant.id, variant]));
  form.addEventListener("change", (event) => {
    const variant = variants.get(event.target.value);
    if (variant) showVariant(variant);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
}

function enableGallery() {
  const main = document.getElementById("product-main-image");
  if (!main) return;
  for (const thumb of document.querySelectorAll(".product-thumb")) {
    thumb.addEventListener("click", (event) => {
      event.preventDefault();
      main.src = thumb.dataset.full;
      main.width = Number(thumb.dataset.width);
      main.height = Number(thumb.dataset.height);
      main.alt = thumb.dataset.alt;
      for (const other of document.querySelectorAll(".product-thumb")) {
        other.removeAttribute("aria-current");
      }
      thumb.setAttribute("aria-current", "true");
    });
  }
}

enableVariantPicker();
enableGallery();
