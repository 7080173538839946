// Follow buttons without a page reload: the form still works as a plain POST when this file
// does not run (or when the API call fails, we let the form submit normally).

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Show the button as following or not, and keep the no-JS form's action in step. */
function showState(form, following) {
  const button = form.querySelector("[data-follow-button]");
  const label = form.querySelector("[data-follow-label]");
  const action = form.querySelector('input[name="action"]');
  if (action) action.value = following ? "unfollow" : "follow";
  if (label) label.textContent = following ? "Following" : "Follow";
  if (button) {
    button.setAttribute("aria-pressed", following ? "true" : "false");
    button.classList.toggle("button-primary", !following);
    button.classList.toggle("button-secondary", following);
  }
}

async function toggle(form) {
  const handle = form.dataset.followHandle;
  const following = form.querySelector('input[name="action"]')?.value === "unfollow";
  const response = await fetch(`/api/v1/users/${encodeURIComponent(handle)}/follow`, {
    method: following ? "DELETE" : "POST",
    headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    credentials: "same-origin",
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new Error(problem?.detail || `Could not update the follow (${response.status}).`);
  }
  const data = await response.json();
  showState(form, data.following);
  for (const count of document.querySelectorAll(`[data-followers-count="${CSS.escape(handle)}"]`)) {
    count.textContent = String(data.followers);
  }
}

function enableFollowButtons() {
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.followHandle) return;
    event.preventDefault();
    const button = form.querySelector("[data-follow-button]");
    if (button) button.disabled = true;
    try {
      await toggle(form);
    } catch (error) {
      const message = form.querySelector("[data-follow-error]") ?? document.createElement("p");
      message.dataset.followError = "";
      message.className = "field-error";
      message.setAttribute("role", "alert");
      message.textContent = error.message;
      form.append(message);
    } finally {
      if (button) button.disabled = false;
    }
  }, { capture: true }); // before app.js's double-submit guard, which then leaves it alone
}

enableFollowButtons();
