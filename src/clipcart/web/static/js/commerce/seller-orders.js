// Seller orders: "Select all paid" ticks every order that can be shipped; typing a tracking
// number ticks its row.

const form = document.querySelector("[data-bulk-ship]");
if (form) {
  const boxes = () => [...form.querySelectorAll("[data-ship-box]")];
  const all = form.querySelector("[data-select-all]");
  all?.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
  });
  form.addEventListener("input", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.name.startsWith("tracking-")) return;
    const box = input.closest("tr")?.querySelector("[data-ship-box]");
    if (box && input.value.trim()) box.checked = true;
  });
}
