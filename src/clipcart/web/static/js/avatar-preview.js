// Shows the chosen picture in the avatar preview before the form is sent.

for (const input of document.querySelectorAll("input[type=file][data-preview]")) {
  const preview = document.getElementById(input.dataset.preview);
  const message = document.getElementById(input.dataset.previewMessage ?? "");
  if (!(preview instanceof HTMLImageElement)) continue;
  const original = preview.src;
  let objectUrl = null;

  input.addEventListener("change", () => {
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
    const file = input.files?.[0];
    if (message) message.textContent = "";
    if (!file) {
      preview.src = original;
      return;
    }
    if (!file.type.startsWith("image/")) {
      if (message) message.textContent = "That file is not a picture. Choose a JPEG, PNG or WebP image.";
      preview.src = original;
      return;
    }
    const maxBytes = Number(input.dataset.maxBytes ?? 0);
    if (maxBytes && file.size > maxBytes) {
      if (message) message.textContent = `That picture is too large. Choose one under ${Math.floor(maxBytes / 1048576)} MB.`;
    }
    objectUrl = URL.createObjectURL(file);
    preview.src = objectUrl;
    preview.alt = "Preview of your new profile picture";
  });
}
