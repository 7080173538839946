"""Product pictures drawn on the machine: a soft studio backdrop in the product's colours, the
theme's object drawn large (a pan for cooking, a leaf for plants...), and the product's name."""

from __future__ import annotations

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from clipcart.demo.catalog import font

SIZE = 900
Colour = tuple[int, int, int]
Glyph = Callable[[ImageDraw.ImageDraw, Colour, Colour], None]


def _lighter(colour: Colour, amount: int) -> Colour:
    return (
        min(255, colour[0] + amount),
        min(255, colour[1] + amount),
        min(255, colour[2] + amount),
    )


def _darker(colour: Colour, amount: int) -> Colour:
    return (max(0, colour[0] - amount), max(0, colour[1] - amount), max(0, colour[2] - amount))


def _pan(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.ellipse([200, 230, 620, 650], fill=_darker(main, 40))
    d.ellipse([235, 265, 585, 615], fill=main)
    d.rounded_rectangle([590, 410, 800, 470], radius=28, fill=_darker(accent, 30))
    d.ellipse([320, 350, 420, 420], fill=(255, 236, 179))
    d.ellipse([355, 368, 395, 402], fill=(255, 179, 0))


def _dumbbell(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([260, 420, 640, 470], radius=20, fill=(90, 90, 100))
    for x in (190, 590):
        d.rounded_rectangle([x, 300, x + 120, 590], radius=30, fill=main)
        d.rounded_rectangle([x + 20, 330, x + 100, 560], radius=24, fill=_darker(main, 35))


def _lipstick(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([360, 430, 540, 700], radius=26, fill=(40, 40, 48))
    d.rectangle([380, 360, 520, 440], fill=(212, 175, 55))
    d.polygon([(390, 360), (510, 360), (510, 250), (390, 300)], fill=main)
    d.ellipse([580, 260, 760, 440], fill=_lighter(accent, 20))
    d.ellipse([610, 290, 730, 410], fill=accent)


def _tee(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.polygon(
        [(300, 230), (390, 200), (510, 200), (600, 230), (720, 330), (650, 410), (600, 370),
         (600, 680), (300, 680), (300, 370), (250, 410), (180, 330)],
        fill=main,
    )  # fmt: skip
    d.arc([390, 160, 510, 260], 20, 160, fill=_darker(main, 60), width=12)
    d.rectangle([300, 560, 600, 590], fill=accent)


def _headphones(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.arc([240, 180, 660, 620], 180, 360, fill=main, width=46)
    for x in (215, 565):
        d.rounded_rectangle([x, 390, x + 120, 610], radius=40, fill=_darker(main, 30))
        d.rounded_rectangle([x + 25, 420, x + 95, 580], radius=30, fill=accent)


def _candle(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([300, 380, 600, 690], radius=40, fill=_lighter(main, 40))
    d.rectangle([300, 480, 600, 580], fill=main)
    d.line([(450, 380), (450, 330)], fill=(60, 60, 60), width=8)
    d.ellipse([420, 230, 480, 335], fill=(255, 183, 3))
    d.ellipse([435, 270, 465, 330], fill=(255, 240, 200))


def _leaf(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.polygon([(350, 700), (550, 700), (590, 560), (310, 560)], fill=(196, 112, 75))
    d.ellipse([240, 200, 520, 520], fill=main)
    d.ellipse([420, 150, 680, 470], fill=_darker(main, 30))
    d.line([(450, 560), (400, 360)], fill=_darker(main, 60), width=12)
    d.line([(450, 560), (540, 320)], fill=_darker(main, 70), width=12)


def _mountain(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.polygon([(160, 690), (420, 260), (680, 690)], fill=main)
    d.polygon([(420, 690), (600, 380), (780, 690)], fill=_darker(main, 40))
    d.polygon([(370, 340), (420, 260), (470, 340), (440, 320), (400, 350)], fill=(250, 250, 250))
    d.ellipse([620, 170, 740, 290], fill=(255, 209, 102))


def _paw(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.ellipse([330, 430, 570, 650], fill=main)
    for x, y in ((260, 330), (360, 250), (480, 250), (580, 330)):
        d.ellipse([x, y, x + 110, y + 130], fill=main)
    d.ellipse([640, 180, 740, 280], fill=accent)


def _book(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([250, 220, 650, 690], radius=24, fill=main)
    d.rectangle([250, 220, 300, 690], fill=_darker(main, 40))
    d.rectangle([350, 300, 600, 330], fill=_lighter(main, 80))
    d.rectangle([350, 360, 560, 380], fill=_lighter(main, 60))
    d.rounded_rectangle([520, 200, 570, 330], radius=6, fill=accent)


def _dice(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([220, 300, 520, 600], radius=50, fill=main)
    d.rounded_rectangle([470, 220, 720, 470], radius=44, fill=accent)
    for x, y in ((280, 360), (440, 520), (360, 440), (280, 520), (440, 360)):
        d.ellipse([x - 22, y - 22, x + 22, y + 22], fill=(255, 255, 255))
    for x, y in ((540, 290), (650, 400)):
        d.ellipse([x - 20, y - 20, x + 20, y + 20], fill=(255, 255, 255))


def _cup(d: ImageDraw.ImageDraw, main: Colour, accent: Colour) -> None:
    d.rounded_rectangle([270, 340, 580, 660], radius=50, fill=main)
    d.arc([520, 400, 700, 580], 270, 90, fill=main, width=36)
    d.ellipse([300, 320, 550, 380], fill=_darker(main, 60))
    for x in (360, 430, 500):
        d.arc([x - 30, 170, x + 30, 320], 100, 260, fill=(255, 255, 255), width=10)
    d.rounded_rectangle([220, 650, 640, 690], radius=20, fill=_darker(accent, 20))


GLYPHS: dict[str, Glyph] = {
    "cooking": _pan, "fitness": _dumbbell, "beauty": _lipstick, "fashion": _tee,
    "tech": _headphones, "home": _candle, "plants": _leaf, "outdoor": _mountain, "pets": _paw,
    "books": _book, "toys": _dice, "coffee": _cup,
}  # fmt: skip


def draw_world_product(
    title: str, theme_key: str, colour: Colour, accent: Colour, *, seed: int
) -> bytes:
    """A square PNG of the product: backdrop, the theme's object in its colour, its name."""
    rng = random.Random(seed)
    backdrop = Image.new("RGB", (SIZE, SIZE), _lighter(colour, 150))
    draw = ImageDraw.Draw(backdrop)
    for _ in range(6):  # soft bokeh, blurred below
        radius = rng.randint(70, 180)
        x, y = rng.randint(0, SIZE), rng.randint(0, SIZE // 2)
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=_lighter(colour, 90 + rng.randint(0, 60)),
        )
    backdrop = backdrop.filter(ImageFilter.GaussianBlur(30))
    draw = ImageDraw.Draw(backdrop)
    draw.ellipse([190, 640, 710, 720], fill=_lighter(colour, 100))  # the object's shadow
    GLYPHS.get(theme_key, _book)(draw, colour, accent)
    title_font = font(60 if len(title) < 22 else 50)
    words = title.split()
    half = (len(words) + 1) // 2
    lines = [" ".join(words[:half]), " ".join(words[half:])] if len(title) > 18 else [title]
    y = 745 if len(lines) == 2 else 780
    for line in filter(None, lines):
        width = draw.textlength(line, font=title_font)
        draw.text(((SIZE - width) / 2, y), line, font=title_font, fill=(33, 33, 33))
        y += 70
    buffer = io.BytesIO()
    backdrop.save(buffer, format="PNG")
    return buffer.getvalue()
