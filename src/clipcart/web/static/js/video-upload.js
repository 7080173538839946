// Upload a video with a progress bar (XMLHttpRequest reports upload progress; fetch does not),
// then go to the video's status page. Without this file the form posts to /upload as usual.

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

function problemMessage(xhr) {
  try {
    const problem = JSON.parse(xhr.responseText);
    return problem.detail || problem.title || "The upload failed.";
  } catch {
    return xhr.status === 413 ? "This video is too large." : "The upload failed. Try again.";
  }
}

function enhance(form) {
  const progress = form.querySelector("[data-upload-progress]");
  const bar = progress?.querySelector("progress");
  const text = progress?.querySelector("[data-upload-progress-text]");
  const error = form.querySelector("[data-upload-error]");
  const button = form.querySelector("button[type=submit]");
  const maxBytes = Number(form.dataset.maxBytes || 0);

  function fail(message) {
    if (progress) progress.hidden = true;
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
    if (button) button.disabled = false;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (error) error.hidden = true;
    const data = new FormData(form);
    data.delete("csrf_token");
    const file = data.get("file");
    if (!(file instanceof File) || file.size === 0) {
      fail("Choose a video file to upload.");
      return;
    }
    if (maxBytes && file.size > maxBytes) {
      fail(`This video is larger than ${Math.round(maxBytes / 1048576)} MB. Trim it and try again.`);
      return;
    }
    if (button) button.disabled = true;
    if (progress) progress.hidden = false;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/videos");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", (progressEvent) => {
      if (!progressEvent.lengthComputable || !bar) return;
      const percent = Math.round((progressEvent.loaded / progressEvent.total) * 100);
      bar.value = percent;
      if (text) text.textContent = percent < 100 ? `${percent}%` : "Uploaded. Checking the video…";
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) {
        const video = JSON.parse(xhr.responseText);
        window.location.assign(`/v/${video.id}/status`);
      } else {
        fail(problemMessage(xhr));
      }
    });
    xhr.addEventListener("error", () => fail("The connection was lost. Try again."));
    xhr.send(data);
  });
}

for (const form of document.querySelectorAll("form[data-video-upload]")) enhance(form);
