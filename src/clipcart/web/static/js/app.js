// Small progressive enhancements shared by every page. Pages work without this file.

/** Stop double submissions: disable a form's submit buttons once it is on its way. */
function guardDoubleSubmit() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    // Let the browser send the clicked button's name/value before it is disabled.
    window.setTimeout(() => {
      for (const button of form.querySelectorAll("button[type=submit], button:not([type])")) {
        button.disabled = true;
      }
    }, 0);
  });
  // Coming back through the history cache must not leave buttons disabled.
  window.addEventListener("pageshow", () => {
    for (const button of document.querySelectorAll("form button[disabled]")) {
      button.disabled = false;
    }
  });
}

/** Buttons with data-copy-target copy the text of the element with that id. */
function enableCopyButtons() {
  for (const button of document.querySelectorAll("[data-copy-target]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copyTarget);
      if (!source) return;
      const label = button.querySelector("[data-copy-label]") ?? button;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        label.textContent = "Copied";
      } catch {
        label.textContent = "Select and copy it by hand";
      }
    });
  }
}

/** Forms with data-confirm ask before they go (for actions that cannot be undone). */
function enableConfirmations() {
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  }, { capture: true });
}

enableConfirmations();
guardDoubleSubmit();
enableCopyButtons();
