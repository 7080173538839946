"""Uploaded pictures: checked by content (never by name), decompression bombs refused,
camera orientation applied, metadata (EXIF, GPS) dropped, re-encoded as WebP."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from clipcart.core.errors import ValidationFailed

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
DEFAULT_MAX_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class RenderedImage:
    """One picture re-encoded at several sizes: `files[size]` is WebP bytes."""

    width: int
    height: int
    files: dict[int, bytes]


def _refuse(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed.field(field, message, code=code)


def load_picture(
    content: bytes,
    *,
    field: str = "file",
    code: str = "image_invalid",
    min_side: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Decode an upload as a still picture, upright, in RGB or RGBA, with no metadata.

    Raises ValidationFailed (on `field`) for anything that is not a usable JPEG, PNG, WebP or
    GIF: text or other files, truncated data, too small, or too many pixels to decode safely."""
    if not content:
        raise _refuse(field, code, "The file is empty. Choose a picture.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(content), formats=sorted(ACCEPTED_FORMATS))
            width, height = opened.size
            # Checked from the header, before any pixel is decoded.
            if width * height > max_pixels:
                raise _refuse(field, code, "That image has too many pixels.")
            if min(width, height) < min_side:
                raise _refuse(field, code, f"Use an image at least {min_side}x{min_side} pixels.")
            opened.seek(0)  # the first frame of an animation
            picture = ImageOps.exif_transpose(opened)  # honour the camera's orientation
            has_alpha = picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info
            # convert() copies the pixels only: EXIF, XMP and ICC text stay behind
            return picture.convert("RGBA" if has_alpha else "RGB")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise _refuse(field, code, "That image has too many pixels.") from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise _refuse(field, code, "Upload a JPEG, PNG, WebP or GIF image.") from error


def encode_webp(picture: Image.Image, *, quality: int = 85) -> bytes:
    """`picture` as WebP bytes without metadata."""
    out = io.BytesIO()
    picture.save(out, format="WEBP", quality=quality, method=4)  # no exif= given: none kept
    return out.getvalue()


def square_sizes(picture: Image.Image, sizes: tuple[int, ...]) -> dict[int, bytes]:
    """`picture` cropped to a centred square and encoded at each size (avatars, logos)."""
    return {
        size: encode_webp(ImageOps.fit(picture, (size, size), method=Image.Resampling.LANCZOS))
        for size in sizes
    }


def bounded_sizes(picture: Image.Image, sizes: tuple[int, ...]) -> dict[int, bytes]:
    """`picture` scaled (never up) to fit in a `size` x `size` box, encoded at each size."""
    files: dict[int, bytes] = {}
    for size in sizes:
        scaled = picture.copy()
        scaled.thumbnail((size, size), Image.Resampling.LANCZOS)
        files[size] = encode_webp(scaled)
    return files


def render_bounded(
    content: bytes,
    sizes: tuple[int, ...],
    *,
    field: str = "file",
    code: str = "image_invalid",
    min_side: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RenderedImage:
    """Check an upload and re-encode it at each bounding size (product photos)."""
    picture = load_picture(
        content, field=field, code=code, min_side=min_side, max_pixels=max_pixels
    )
    largest = picture.copy()
    largest.thumbnail((max(sizes), max(sizes)), Image.Resampling.LANCZOS)
    return RenderedImage(largest.width, largest.height, bounded_sizes(picture, sizes))


def render_square(
    content: bytes,
    sizes: tuple[int, ...],
    *,
    field: str = "file",
    code: str = "image_invalid",
    min_side: int = 1,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> RenderedImage:
    """Check an upload and re-encode it as a square at each size (avatars, shop logos)."""
    picture = load_picture(
        content, field=field, code=code, min_side=min_side, max_pixels=max_pixels
    )
    size = max(sizes)
    return RenderedImage(size, size, square_sizes(picture, sizes))
