// Plays the feed: one video per screen, autoplay muted, tap to unmute, pause off screen,
// preload the next one, keyboard control, and watch-time reporting.

const VISIBLE = 0.6;

/** Drives every <article class="feed-item"> inside `list`, reporting to `events`. */
export class FeedPlayer {
  constructor(list, events, { onActivate } = {}) {
    this.list = list;
    this.events = events;
    this.onActivate = onActivate;
    this.muted = true;
    this.active = null;
    this.seen = new Set();
    this.watch = null;
    this.observer = new IntersectionObserver((entries) => this.onIntersect(entries), {
      root: list,
      threshold: [0, VISIBLE],
    });
    events.beforeFlush = (leaving) => {
      if (leaving) this.finishWatch();
    };
    document.addEventListener("keydown", (event) => this.onKey(event));
  }

  items() {
    return [...this.list.querySelectorAll(".feed-item")];
  }

  /** Take over newly added items (the first screenful, then each batch). */
  adopt(items) {
    for (const item of items) {
      const video = item.querySelector("video");
      video.removeAttribute("controls");
      video.muted = true;
      item.querySelector(".feed-sound").hidden = false;
      item.querySelector(".feed-media").addEventListener("click", (event) => {
        if (event.target.closest("a")) return;
        if (event.target.closest('[data-action="sound"]')) {
          if (item !== this.active) this.activate(item);
          this.setMuted(!this.muted);
          return;
        }
        this.tap(item);
      });
      video.addEventListener("timeupdate", () => this.onTime(item, video));
      this.observer.observe(item);
    }
    this.syncSound();
  }

  onIntersect(entries) {
    for (const entry of entries) {
      const item = entry.target;
      if (entry.intersectionRatio >= VISIBLE) {
        this.activate(item);
      } else if (item === this.active) {
        this.deactivate(item);
      }
    }
  }

  activate(item) {
    if (this.active === item) return;
    if (this.active) this.deactivate(this.active);
    this.active = item;
    const video = item.querySelector("video");
    const position = Number(item.dataset.position);
    if (!this.seen.has(item.dataset.videoId)) {
      this.seen.add(item.dataset.videoId);
      this.events.record("impression", { video_id: item.dataset.videoId, position });
    }
    this.watch = { item, ms: 0, completed: false, last: video.currentTime };
    video.muted = this.muted;
    video.preload = "auto";
    this.play(video);
    this.preloadAfter(item);
    if (this.onActivate) this.onActivate(item);
  }

  deactivate(item) {
    const video = item.querySelector("video");
    video.pause();
    if (this.active === item) {
      this.finishWatch();
      this.active = null;
    }
  }

  play(video) {
    const started = video.play();
    if (started) {
      started.catch(() => {
        // Autoplay with sound can be refused: fall back to muted, which browsers allow.
        if (!video.muted) {
          this.muted = true;
          video.muted = true;
          this.syncSound();
          video.play().catch(() => {});
        }
      });
    }
  }

  /** Start fetching the next video so it is ready when the viewer swipes. */
  preloadAfter(item) {
    const next = item.nextElementSibling;
    const video = next?.querySelector?.("video");
    if (video && video.preload !== "auto") {
      video.preload = "auto";
      if (video.readyState === 0) video.load();
    }
  }

  onTime(item, video) {
    const watch = this.watch;
    if (!watch || watch.item !== item) return;
    const now = video.currentTime;
    const delta = now - watch.last;
    if (delta > 0 && delta < 1.5) {
      watch.ms += delta * 1000;
    } else if (delta < -0.5 && video.duration && watch.last > video.duration - 1) {
      // The loop wrapped around: the video was watched to the end and starts again.
      watch.completed = true;
      this.events.record("replay", { video_id: item.dataset.videoId });
    }
    watch.last = now;
  }

  /** Report the watch of the active video (on leaving it, or when the page goes away). */
  finishWatch() {
    const watch = this.watch;
    if (!watch) return;
    const video = watch.item.querySelector("video");
    const durationMs = Math.round((video.duration || 0) * 1000) || undefined;
    const ms = Math.round(watch.ms);
    if (ms > 0) {
      const completed = watch.completed || (durationMs !== undefined && ms >= durationMs * 0.95);
      this.events.record("watch", {
        video_id: watch.item.dataset.videoId,
        position: Number(watch.item.dataset.position),
        watch_ms: Math.min(ms, 86_400_000),
        duration_ms: durationMs,
        completed,
      });
    }
    this.watch = { item: watch.item, ms: 0, completed: false, last: video.currentTime };
    if (this.active !== watch.item) this.watch = null;
  }

  /** A tap on the video: the first unmutes, later ones pause and resume. */
  tap(item) {
    const video = item.querySelector("video");
    if (item !== this.active) this.activate(item);
    if (this.muted) {
      this.setMuted(false);
    } else if (video.paused) {
      this.play(video);
    } else {
      video.pause();
    }
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.active) {
      const video = this.active.querySelector("video");
      video.muted = muted;
      if (video.paused) this.play(video);
    }
    this.syncSound();
  }

  syncSound() {
    for (const button of this.list.querySelectorAll(".feed-sound")) {
      button.setAttribute("aria-pressed", this.muted ? "false" : "true");
      button.setAttribute("aria-label", this.muted ? "Tap to unmute" : "Mute");
    }
    this.list.classList.toggle("is-muted", this.muted);
  }

  /** Scroll to the item `step` screens away from the active one. */
  move(step) {
    const items = this.items();
    const index = items.indexOf(this.active);
    const target = items[Math.max(0, Math.min(items.length - 1, index + step))];
    if (target) target.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (document.querySelector("dialog[open]")) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) {
      return;
    }
    const onButton = target instanceof HTMLElement && target.closest("button, a");
    if (event.key === "ArrowDown" || event.key === "PageDown") {
      event.preventDefault();
      this.move(1);
    } else if (event.key === "ArrowUp" || event.key === "PageUp") {
      event.preventDefault();
      this.move(-1);
    } else if (event.key === " " && !onButton) {
      event.preventDefault();
      const video = this.active?.querySelector("video");
      if (video) {
        if (video.paused) this.play(video);
        else video.pause();
      }
    } else if (event.key === "m" || event.key === "M") {
      this.setMuted(!this.muted);
    }
  }
}
