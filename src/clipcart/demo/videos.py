"""Demo videos: each demo product's picture panning and zooming under its name and price, with a
soft chord, posted by the demo shop with the product tagged."""

from __future__ import annotations

import io
import math
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageDraw
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.demo.catalog import font
from clipcart.media.samples import write_tone

WIDTH, HEIGHT, FPS = 720, 1280, 25


def make_product_clip(
    path: Path, picture: bytes, *, title: str, price: str, colour: tuple[int, int, int],
    seconds: float = 6.0,
) -> Path:  # fmt: skip
    """Write a portrait H.264/AAC clip of `picture` slowly zooming and panning, with captions."""
    product = Image.open(io.BytesIO(picture)).convert("RGB")
    background = Image.new("RGB", (WIDTH, HEIGHT), tuple(max(0, c - 60) for c in colour))
    title_font, price_font = font(46), font(64)
    frames = round(seconds * FPS)
    with av.open(str(path), mode="w", format="mp4") as container:
        video = cast(VideoStream, container.add_stream("libx264", rate=FPS))
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "20"}
        audio = cast(AudioStream, container.add_stream("aac", rate=44100))
        audio.layout = "mono"
        for index in range(frames):
            progress = index / max(1, frames - 1)
            scale = 1.0 + 0.25 * progress
            side = int(660 * scale)
            picture_frame = product.resize((side, side))
            canvas = background.copy()
            drift = int(math.sin(progress * math.pi) * 40)
            # The feed's overlay covers the lower third: the words go on top, the product mid.
            canvas.paste(picture_frame, ((WIDTH - side) // 2 + drift, 400 - (side - 660) // 2))
            draw = ImageDraw.Draw(canvas)
            draw.rounded_rectangle([40, 130, WIDTH - 40, 350], radius=36, fill=(255, 255, 255))
            draw.text((80, 160), title, font=title_font, fill=(25, 25, 25))
            draw.text((80, 240), price, font=price_font, fill=(200, 20, 80))
            frame = av.VideoFrame.from_image(canvas)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        write_tone(container, audio, seconds=seconds, frequencies=(261.6, 329.6, 392.0))
    return path


async def seed_demo_videos(owner: User, *, count: int, session: AsyncSession) -> int:
    """Post `count` videos for the demo shop, each tagging one product, unless it has videos;
    they are transcoded by the job worker once the seed commits. The number posted."""
    from clipcart.catalog import service as catalog
    from clipcart.core.money import Money
    from clipcart.demo.catalog import DEMO_PRODUCTS, DEMO_SHOP_HANDLE, draw_product_picture
    from clipcart.media import service as media
    from clipcart.media.schemas import TagIn
    from clipcart.media.tagging import add_tag
    from clipcart.shops import service as shops

    shop = await shops.get_shop_by_handle(DEMO_SHOP_HANDLE, session=session)
    existing, _ = await media.list_shop_videos(shop.id, cursor=None, limit=1, session=session)
    if existing:
        return 0
    posted = 0
    with tempfile.TemporaryDirectory(prefix="clipcart-demo-") as directory:
        for index, item in enumerate(DEMO_PRODUCTS[:count]):
            product = await catalog.find_product_by_handle(
                shop.id, catalog_handle(item.title), session=session
            )
            if product is None:
                continue
            price = Money(item.price, shop.currency).format()
            clip = make_product_clip(
                Path(directory) / f"clip-{index}.mp4",
                draw_product_picture(item.title, item.colour, seed=index),
                title=item.title,
                price=price,
                colour=item.colour,
            )
            video = await media.create_video(
                owner,
                media.UploadedFile(path=clip, size=clip.stat().st_size, filename=clip.name),
                shop_id=shop.id,
                caption=f"{item.title}, now {price} #newin #{DEMO_HASHTAGS[index % 3]}",
                visibility="public",
                session=session,
            )
            await session.refresh(video, ["tags"])
            await add_tag(owner, video, TagIn(product_id=product.id), session=session)
            posted += 1
    return posted


DEMO_HASHTAGS = ("everydaycarry", "homegoods", "smallbusiness")


def catalog_handle(title: str) -> str:
    """The handle the catalogue makes from a demo product's title."""
    from clipcart.catalog import domain

    return domain.slugify_handle(title)
