// The feed's event stream: queued, sent in batches every few seconds and on pagehide with
// navigator.sendBeacon to POST /api/v1/events (format: src/clipcart/recs/schemas.py).

const ENDPOINT = "/api/v1/events";
const FLUSH_MS = 4000;
const MAX_BATCH = 100;

function sessionId() {
  const key = "clipcart.feed.session";
  try {
    let value = sessionStorage.getItem(key);
    if (!value) {
      value = crypto.randomUUID();
      sessionStorage.setItem(key, value);
    }
    return value;
  } catch {
    return undefined;
  }
}

/** Collects events and sends them in batches; never blocks or breaks the page. */
export class EventQueue {
  constructor(surface) {
    this.surface = surface;
    this.session = sessionId();
    this.pending = [];
    this.timer = window.setInterval(() => this.flush(), FLUSH_MS);
    window.addEventListener("pagehide", () => this.flush({ beacon: true }));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush({ beacon: true });
    });
  }

  /** Queue one event: `type` plus its fields (video_id, product_id, watch_ms, ...). */
  record(type, fields = {}) {
    const event = {
      id: crypto.randomUUID(),
      type,
      occurred_at: new Date().toISOString(),
      surface: this.surface,
      ...fields,
    };
    if (this.session) event.session_id = this.session;
    this.pending.push(event);
    if (this.pending.length >= MAX_BATCH) this.flush();
  }

  /** Send what is queued: fetch normally, sendBeacon when the page is going away. */
  flush({ beacon = false } = {}) {
    if (this.beforeFlush) this.beforeFlush(beacon);
    while (this.pending.length) {
      const batch = this.pending.splice(0, MAX_BATCH);
      const body = JSON.stringify({ events: batch });
      if (beacon && navigator.sendBeacon) {
        const sent = navigator.sendBeacon(ENDPOINT, new Blob([body], { type: "text/plain" }));
        if (sent) continue;
      }
      fetch(ENDPOINT, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        keepalive: true,
        body,
      }).catch(() => {
        // Analytics must never disturb watching; a lost batch is acceptable.
      });
    }
  }
}
