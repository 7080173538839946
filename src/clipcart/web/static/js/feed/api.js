// JSON calls to the ClipCart API from the feed, as the signed-in browser (CSRF header).

/** The CSRF token the page was rendered with. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

/** Send a visitor to log in and come back to the feed. */
export function goToLogin() {
  const next = `${location.pathname}${location.search}`;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/** A failed API call, carrying the problem+json body when there was one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `The request failed (${status}).`);
    this.status = status;
    this.problem = problem;
  }
}

/** Call the API; answers the parsed JSON (null for 204), throws ApiError otherwise. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
