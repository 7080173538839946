"""Avatar rendering: judged by content, squared, re-encoded as WebP, metadata dropped."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from clipcart.accounts import domain
from clipcart.core.errors import ValidationFailed


def encode(picture: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16"])
def test_any_pixel_mode_renders(mode: str) -> None:
    fmt = "JPEG" if mode in {"CMYK", "L", "RGB"} else "PNG"
    if mode == "1":
        fmt = "PNG"
    content = encode(Image.new(mode, (120, 90)), fmt)
    rendered = domain.render_avatar(content)
    assert set(rendered) == set(domain.AVATAR_SIZES)
    for size, data in rendered.items():
        picture = Image.open(io.BytesIO(data))
        assert picture.format == "WEBP" and picture.size == (size, size)


def test_transparency_is_kept() -> None:
    content = encode(Image.new("RGBA", (100, 100), (255, 0, 0, 0)), "PNG")
    picture = Image.open(io.BytesIO(domain.render_avatar(content)[64]))
    assert picture.mode == "RGBA"
    pixel = picture.getpixel((10, 10))
    assert isinstance(pixel, tuple) and pixel[3] == 0


def test_exif_orientation_is_applied_then_dropped() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    exif[0x010F] = "SecretCam"
    picture = Image.new("RGB", (200, 100), "white")
    picture.paste((0, 0, 0), (0, 0, 100, 100))  # the left half is black
    rendered = Image.open(io.BytesIO(domain.render_avatar(encode(picture, "JPEG", exif=exif))[256]))
    assert len(rendered.getexif()) == 0
    # rotated 90 degrees clockwise, the black half is on top
    top = rendered.getpixel((128, 20))
    bottom = rendered.getpixel((128, 236))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert sum(top) < sum(bottom)


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("RGB", (80, 80), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    rendered = Image.open(io.BytesIO(domain.render_avatar(out.getvalue())[64])).convert("RGB")
    pixel = rendered.getpixel((32, 32))
    assert isinstance(pixel, tuple)
    red, _, blue = pixel
    assert red > 200 and blue < 60


@pytest.mark.parametrize(
    "content",
    [b"", b"GIF89a", b"%PDF-1.4 hello", b"<svg xmlns='http://www.w3.org/2000/svg'/>"],
)
def test_non_images_are_refused(content: bytes) -> None:
    with pytest.raises(ValidationFailed) as caught:
        domain.render_avatar(content)
    assert caught.value.code == "avatar_invalid"
    assert caught.value.data["errors"][0]["field"] == "file"


def test_formats_other_than_the_four_are_refused() -> None:
    for fmt in ("BMP", "TIFF", "ICO"):
        with pytest.raises(ValidationFailed):
            domain.render_avatar(encode(Image.new("RGB", (100, 100)), fmt))


def test_truncated_files_are_refused() -> None:
    content = encode(Image.effect_noise((300, 300), 50).convert("RGB"), "PNG")
    with pytest.raises(ValidationFailed):
        domain.render_avatar(content[: len(content) // 2])


def test_urls_and_sizes() -> None:
    assert domain.avatar_url(None, 64) is None
    assert domain.avatar_url("abc", 64) == "/media/avatars/abc-64.webp"
    assert domain.avatar_url("abc", 100) == "/media/avatars/abc-256.webp"
    assert domain.avatar_url("abc", 1000) == "/media/avatars/abc-256.webp"
    assert domain.avatar_url("abc", 1) == "/media/avatars/abc-64.webp"


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash(content: bytes) -> None:
    with contextlib.suppress(ValidationFailed):
        domain.render_avatar(content)


@settings(max_examples=15, deadline=None)
@given(
    width=st.integers(min_value=domain.AVATAR_MIN_SIDE, max_value=700),
    height=st.integers(min_value=domain.AVATAR_MIN_SIDE, max_value=700),
)
def test_any_shape_becomes_square(width: int, height: int) -> None:
    rendered = domain.render_avatar(encode(Image.new("RGB", (width, height)), "PNG"))
    assert {Image.open(io.BytesIO(data)).size for data in rendered.values()} == {
        (256, 256),
        (64, 64),
    }
