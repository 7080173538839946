// Poll a processing video's status until it is ready or failed, then update the page.

const POLL_MS = 1000;

function show(section, video) {
  const text = section.querySelector("[data-status-text] span");
  const watch = section.querySelector("[data-watch-link]");
  const refresh = section.querySelector("[data-refresh-link]");
  section.dataset.status = video.status;
  if (video.status === "ready") {
    if (text) text.textContent = "Ready to watch.";
    if (watch) watch.hidden = false;
    if (refresh) refresh.hidden = true;
  } else if (video.status === "failed") {
    if (text) text.textContent = `Processing failed: ${video.failure_reason}`;
    if (refresh) refresh.hidden = true;
  }
}

async function poll(section) {
  const id = section.dataset.videoId;
  while (section.dataset.status === "processing") {
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    try {
      const response = await fetch(`/api/v1/videos/${id}`, { headers: { Accept: "application/json" } });
      if (!response.ok) continue;
      show(section, await response.json());
    } catch {
      // A dropped connection: try again on the next tick.
    }
  }
}

for (const section of document.querySelectorAll("[data-video-status]")) poll(section);
