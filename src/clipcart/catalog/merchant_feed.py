"""The Google Merchant product feed: RSS 2.0 with the g: namespace, one item per variant of
each active product. Built with ElementTree, so every value is escaped."""

from __future__ import annotations

import html
from xml.etree import ElementTree

import nh3

from clipcart.catalog import domain
from clipcart.catalog.csv_writing import format_money
from clipcart.catalog.models import Product, Variant
from clipcart.catalog.schemas import IMAGE_SIZES, image_url
from clipcart.shops.models import Shop

G = "http://base.google.com/ns/1.0"
ElementTree.register_namespace("g", G)
DESCRIPTION_MAX = 5000


def _text(description_html: str) -> str:
    """Description HTML as plain text (Google wants text)."""
    stripped = nh3.clean(description_html.replace("<", " <"), tags=set())
    return " ".join(html.unescape(stripped).split())[:DESCRIPTION_MAX]


def _add(parent: ElementTree.Element, tag: str, text: str) -> None:
    ElementTree.SubElement(parent, tag).text = text


def _price(minor: int, currency: str) -> str:
    return f"{format_money(minor, currency)} {currency}"


def _item(
    channel: ElementTree.Element, shop: Shop, product: Product, variant: Variant, base_url: str
) -> None:
    item = ElementTree.SubElement(channel, "item")
    _add(item, f"{{{G}}}id", variant.sku or str(variant.id))
    title = product.title
    if variant.option_values:
        title = f"{title} - {' / '.join(variant.option_values)}"
    _add(item, f"{{{G}}}title", title[:150])
    _add(item, f"{{{G}}}description", _text(product.description_html) or product.title)
    _add(item, f"{{{G}}}link", f"{base_url}/p/{product.id}?variant={variant.id}")
    if product.images:
        _add(
            item, f"{{{G}}}image_link", base_url + image_url(product.images[0].key, IMAGE_SIZES[0])
        )
        for image in product.images[1:10]:
            _add(
                item,
                f"{{{G}}}additional_image_link",
                base_url + image_url(image.key, IMAGE_SIZES[0]),
            )
    compare = variant.compare_at_price
    if compare is not None and compare > variant.price:
        _add(item, f"{{{G}}}price", _price(compare, product.currency))
        _add(item, f"{{{G}}}sale_price", _price(variant.price, product.currency))
    else:
        _add(item, f"{{{G}}}price", _price(variant.price, product.currency))
    _add(item, f"{{{G}}}availability", "in_stock" if variant.stock > 0 else "out_of_stock")
    _add(item, f"{{{G}}}brand", product.vendor or shop.name)
    _add(item, f"{{{G}}}condition", "new")
    category = (
        domain.find_category(product.category_id) if product.category_id is not None else None
    )
    if category is not None:
        _add(item, f"{{{G}}}google_product_category", str(category.id))
    if product.product_type:
        _add(item, f"{{{G}}}product_type", product.product_type)
    if variant.sku:
        _add(item, f"{{{G}}}mpn", variant.sku)
    if len(product.variants) > 1:
        _add(item, f"{{{G}}}item_group_id", product.handle)
    if variant.weight_grams:
        _add(item, f"{{{G}}}shipping_weight", f"{variant.weight_grams} g")


def build_feed(shop: Shop, products: list[Product], *, base_url: str) -> bytes:
    """The feed document for the shop's products (only active ones are listed)."""
    base_url = base_url.rstrip("/")
    rss = ElementTree.Element("rss", {"version": "2.0"})
    channel = ElementTree.SubElement(rss, "channel")
    _add(channel, "title", f"{shop.name} on ClipCart")
    _add(channel, "link", f"{base_url}/shop/{shop.handle}")
    _add(channel, "description", f"Products of {shop.name}")
    for product in products:
        if product.status != "active":
            continue
        for variant in product.variants:
            _item(channel, shop, product, variant, base_url)
    return ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)
