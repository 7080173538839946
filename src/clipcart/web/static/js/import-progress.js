// Follow a running import: poll its JSON, move the <progress> bar, and show the full report
// (rejected rows) by reloading the page once the import has ended.

const POLL_MS = 700;

function show(section, job) {
  const bar = section.querySelector("[data-import-bar]");
  const percent = section.querySelector("[data-import-percent]");
  const rows = section.querySelector("[data-import-rows]");
  const status = section.querySelector("[data-import-status]");
  if (bar) {
    bar.max = Math.max(job.total_rows, 1);
    bar.value = job.processed_rows;
    bar.textContent = `${job.percent}%`;
  }
  if (percent) percent.textContent = `${job.percent}%`;
  if (rows) rows.textContent = `${job.processed_rows} of ${job.total_rows} rows`;
  if (status && job.status === "running") status.textContent = "Importing…";
  section.dataset.status = job.status;
}

async function follow(section) {
  const url = section.dataset.url;
  while (section.dataset.status === "queued" || section.dataset.status === "running") {
    await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) continue;
      show(section, await response.json());
    } catch {
      // A dropped connection: try again on the next tick.
    }
  }
  window.location.reload();
}

for (const section of document.querySelectorAll("[data-import-job]")) follow(section);
