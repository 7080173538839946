"""The shared picture routine (core.images) used by product images, shop logos and avatars."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from clipcart.core import images
from clipcart.core.errors import ValidationFailed


def _encode(picture: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def test_bounded_sizes_keep_aspect_and_never_upscale() -> None:
    rendered = images.render_bounded(
        _encode(Image.new("RGB", (800, 400), "red"), "PNG"), (1200, 600, 240)
    )
    sizes = {size: Image.open(io.BytesIO(data)).size for size, data in rendered.files.items()}
    assert sizes == {1200: (800, 400), 600: (600, 300), 240: (240, 120)}
    assert (rendered.width, rendered.height) == (800, 400)


def test_transparency_is_kept_and_metadata_dropped() -> None:
    picture = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    exif = Image.Exif()
    exif[0x8825] = {2: (1.0, 2.0, 3.0)}  # GPS
    content = _encode(picture, "PNG", exif=exif)
    rendered = images.render_square(content, (128,))
    out = Image.open(io.BytesIO(rendered.files[128]))
    assert out.mode == "RGBA"
    assert not out.getexif()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"GIF89a but not really", "Upload a JPEG"),
        (_encode(Image.new("RGB", (50, 50)), "BMP"), "Upload a JPEG"),
    ],
)
def test_refusals_name_the_field(content: bytes, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        images.load_picture(content, field="logo", code="logo_invalid")
    assert caught.value.code == "logo_invalid"
    assert caught.value.data["errors"][0]["field"] == "logo"
    assert message in caught.value.message


def test_pixel_limit_is_checked_before_decoding() -> None:
    content = _encode(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(ValidationFailed, match="too many pixels"):
        images.load_picture(content, max_pixels=1_000_000)
