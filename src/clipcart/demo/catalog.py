"""The demo shop: a catalogue with variants, stock and product pictures drawn on the machine."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User

DEMO_SHOP_HANDLE = "sams_corner"


@dataclass(frozen=True)
class DemoProduct:
    """One product of the demo catalogue: prices in cents, one variant per option value."""

    title: str
    category_id: int
    option: str
    values: tuple[str, ...]
    price: int
    compare_at: int | None
    colour: tuple[int, int, int]
    description: str


DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(
        "Everyday Cotton Tee",
        7288,
        "Size",
        ("S", "M", "L", "XL"),
        1900,
        2500,
        (231, 111, 81),
        "<p>Heavyweight <strong>organic cotton</strong>, pre-shrunk.</p>",
    ),
    DemoProduct(
        "Canvas Tote Bag",
        5608,
        "Colour",
        ("Natural", "Black"),
        2450,
        3000,
        (214, 180, 130),
        "<p>Carries a week of groceries. Machine washable.</p>",
    ),
    DemoProduct(
        "Sunset Sunglasses",
        178,
        "Frame",
        ("Tortoise", "Black"),
        3900,
        None,
        (244, 162, 97),
        "<p>Polarised lenses, UV400, with a soft case.</p>",
    ),
    DemoProduct(
        "Cloud Runner Sneakers",
        7301,
        "Size",
        ("38", "39", "40", "41", "42"),
        8900,
        11000,
        (69, 123, 157),
        "<p>Light knit upper and a cushioned sole.</p>",
    ),
    DemoProduct(
        "Soy Candle, Fig & Cedar",
        3840,
        "Size",
        ("Small", "Large"),
        1600,
        None,
        (142, 110, 83),
        "<p>Hand-poured soy wax, 40 hours of burn time.</p>",
    ),
    DemoProduct(
        "Studio Headphones",
        543626,
        "Colour",
        ("Graphite", "Sand"),
        12900,
        14900,
        (52, 58, 64),
        "<p>Closed-back, 40 mm drivers, 30 hours of battery.</p>",
    ),
    DemoProduct(
        "Trail Backpack 24L",
        100,
        "Colour",
        ("Olive", "Navy"),
        6400,
        None,
        (96, 108, 56),
        "<p>Water-resistant, laptop sleeve, hip belt.</p>",
    ),
    DemoProduct(
        "Dotted Notebook A5",
        957,
        "Cover",
        ("Coral", "Sage", "Ink"),
        1200,
        None,
        (42, 157, 143),
        "<p>160 pages of 100 gsm paper that fountain pens love.</p>",
    ),
    DemoProduct(
        "Monstera in a Clay Pot",
        5590,
        "Pot",
        ("Terracotta", "White"),
        3500,
        4200,
        (64, 145, 108),
        "<p>A happy, easy plant, 40 cm tall, shipped with care.</p>",
    ),
    DemoProduct(
        "Bucket Hat",
        173,
        "Colour",
        ("Cream", "Khaki"),
        2200,
        None,
        (233, 196, 106),
        "<p>Soft cotton twill that packs flat.</p>",
    ),
)


def draw_product_picture(title: str, colour: tuple[int, int, int], *, seed: int) -> bytes:
    """A square product picture: a soft gradient in the product's colour, shapes, its name."""
    size = 900
    rng = random.Random(seed)
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    light = tuple(min(255, channel + 150) for channel in colour)
    for y in range(size):
        mix = y / size
        row = tuple(
            int(light[i] * (1 - mix) + colour[i] * mix * 0.35 + 255 * mix * 0.4) for i in range(3)
        )
        draw.line([(0, y), (size, y)], fill=tuple(min(255, c) for c in row))
    for _ in range(5):
        radius = rng.randint(60, 170)
        x, y = rng.randint(0, size), rng.randint(0, size // 2)
        tint = tuple(min(255, c + rng.randint(40, 110)) for c in colour)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=tint)
    draw.rounded_rectangle([220, 260, 680, 700], radius=60, fill=colour)
    draw.rounded_rectangle([300, 340, 600, 620], radius=40, outline=(255, 255, 255), width=10)
    title_font = font(64)
    words = title.split()
    lines = [" ".join(words[: len(words) // 2 + 1]), " ".join(words[len(words) // 2 + 1 :])]
    y = 730
    for line in filter(None, lines):
        width = draw.textlength(line, font=title_font)
        draw.text(((size - width) / 2, y), line, font=title_font, fill=(33, 33, 33))
        y += 76
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A bold system font at `size` px (Pillow's own when DejaVu and Liberation are missing)."""
    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


async def seed_demo_shop(owner: User, *, session: AsyncSession) -> int:
    """Open the demo shop for `owner` with its catalogue, once; the number of products added."""
    from clipcart.catalog import service as catalog
    from clipcart.catalog.schemas import ProductIn, VariantIn
    from clipcart.core.errors import NotFound
    from clipcart.shops import service as shops
    from clipcart.shops.schemas import ShopIn

    try:
        await shops.get_shop_by_handle(DEMO_SHOP_HANDLE, session=session)
        return 0
    except NotFound:
        pass
    shop = await shops.open_shop(
        owner,
        ShopIn(
            handle=DEMO_SHOP_HANDLE,
            name="Sam's Corner Store",
            description="Small-batch everyday goods, picked by Sam and shipped from Leeds.",
            country="US",
            currency="USD",
            return_policy="Returns within 30 days, unworn and in the original packaging.",
            shipping_flat_rate=499,
            free_shipping_threshold=5000,
            processing_days=1,
        ),
        session=session,
    )
    for index, item in enumerate(DEMO_PRODUCTS):
        sku_stem = "".join(word[0] for word in item.title.split()).upper()
        product = await catalog.create_product(
            shop,
            ProductIn(
                title=item.title,
                description_html=item.description,
                vendor="Sam's Corner Store",
                category_id=item.category_id,
                status="active",
                options=[item.option],
                variants=[
                    VariantIn(
                        sku=f"{sku_stem}-{value.upper().replace(' ', '')}",
                        option_values=[value],
                        price=item.price,
                        compare_at_price=item.compare_at,
                        weight_grams=300,
                        stock=(index * 7 + position * 5) % 40 + (0 if position else 3),
                    )
                    for position, value in enumerate(item.values)
                ],
            ),
            actor=owner,
            session=session,
        )
        picture = draw_product_picture(item.title, item.colour, seed=index)
        await catalog.add_product_image(product, picture, position=0, session=session)
    return len(DEMO_PRODUCTS)
