"""The Shopify product CSV: encoding, columns, grouping by handle, row problems, round trip."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clipcart.catalog.csv_format import (
    EXPORT_COLUMNS,
    CsvFormatError,
    ImageRecord,
    ProductRecord,
    VariantRecord,
    parse_products,
)
from clipcart.catalog.csv_writing import write_products


def _csv(rows: list[dict[str, str]], columns: tuple[str, ...] = EXPORT_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


TEE = [
    {
        "Handle": "classic-tee",
        "Title": "Classic Tee",
        "Body (HTML)": "<p>Soft <b>cotton</b></p>",
        "Vendor": "Acme",
        "Type": "Shirts",
        "Tags": "summer, cotton,summer",
        "Option1 Name": "Size",
        "Option1 Value": "S",
        "Option2 Name": "Colour",
        "Option2 Value": "Red",
        "Variant SKU": "TEE-S-R",
        "Variant Price": "19.99",
        "Variant Compare At Price": "25.00",
        "Variant Grams": "200",
        "Variant Inventory Qty": "5",
        "Image Src": "tee-front.jpg",
        "Image Position": "1",
        "Status": "active",
    },
    {
        "Handle": "classic-tee",
        "Option1 Value": "M",
        "Option2 Value": "Red",
        "Variant SKU": "TEE-M-R",
        "Variant Price": "19.99",
        "Variant Inventory Qty": "0",
        "Image Src": "tee-back.jpg",
        "Image Position": "2",
    },
    {"Handle": "classic-tee", "Image Src": "tee-side.jpg", "Image Position": "3"},
]


def test_groups_rows_by_handle_with_variants_and_images() -> None:
    parsed = parse_products(_csv(TEE), currency="USD")
    assert parsed.problems == []
    assert parsed.total_rows == 3
    (tee,) = parsed.products
    assert tee.handle == "classic-tee"
    assert tee.options == ["Size", "Colour"]
    assert tee.tags == ["summer", "cotton"]
    assert [v.option_values for v in tee.variants] == [["S", "Red"], ["M", "Red"]]
    assert tee.variants[0].price == 1999
    assert tee.variants[0].compare_at_price == 2500
    assert tee.variants[0].weight_grams == 200
    assert [v.stock for v in tee.variants] == [5, 0]
    assert [(i.src, i.position, i.row) for i in tee.images] == [
        ("tee-front.jpg", 1, 2),
        ("tee-back.jpg", 2, 3),
        ("tee-side.jpg", 3, 4),
    ]


def test_utf8_bom_is_accepted() -> None:
    parsed = parse_products(b"\xef\xbb\xbf" + _csv(TEE), currency="USD")
    assert len(parsed.products) == 1


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("Handle,Title,Variant Price\r\nb,Bébé,1\r\n".encode("utf-16"), "UTF-16"),
        ("Handle,Title,Variant Price\r\nb,Crème brûlée,1\r\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b"Handle,Title\r\nx,X\r\n", "Required columns are missing: Variant Price"),
        (b"Name,Price\r\nx,1\r\n", "Handle, Title, Variant Price"),
        (b"Handle,Title,Title,Variant Price\r\n", "repeats these columns: Title"),
    ],
)
def test_unusable_files_are_refused_with_a_clear_message(data: bytes, fragment: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_products(data, currency="USD")
    assert fragment in str(caught.value)


def test_latin1_error_names_the_byte_and_position() -> None:
    data = "Handle,Title,Variant Price\r\nb,Crème,1\r\n".encode("latin-1")
    with pytest.raises(CsvFormatError) as caught:
        parse_products(data, currency="USD")
    assert "0xe8" in str(caught.value)
    assert "CSV UTF-8" in str(caught.value)


def _base(handle: str, **cells: str) -> dict[str, str]:
    return {"Handle": handle, "Title": handle.title(), "Variant Price": "10.00", **cells}


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (_base("a", **{"Variant Price": "-5.00"}), "Variant Price", "cannot be negative"),
        (_base("a", **{"Variant Price": "abc"}), "Variant Price", "not a number"),
        (_base("a", **{"Variant Price": ""}), "Variant Price", "Enter a price"),
        (_base("a", **{"Variant Price": "1.234"}), "Variant Price", "2 decimal places"),
        (_base("a", **{"Variant Inventory Qty": "many"}), "Variant Inventory Qty", "whole number"),
        (_base("a", **{"Variant Inventory Qty": "1.5"}), "Variant Inventory Qty", "whole number"),
        (_base("a", **{"Variant Inventory Qty": "-3"}), "Variant Inventory Qty", "negative"),
        (_base("a", **{"Variant Grams": "-1"}), "Variant Grams", "negative"),
        (_base("a", **{"Variant Compare At Price": "-1"}), "Variant Compare At Price", "negative"),
        (_base("a", Title=""), "Title", "needs a title"),
        (_base("Not A Handle!"), "Handle", "lower-case"),
        (_base("a", Status="sold"), "Status", "draft, active, archived"),
        (_base("a", **{"Option1 Name": "Size"}), "Option1 Value", "Give a value for “Size”"),
    ],
)
def test_bad_row_is_reported_with_row_and_column(
    row: dict[str, str], column: str, fragment: str
) -> None:
    good = _base("good-one", **{"Variant SKU": "G1"})
    parsed = parse_products(_csv([good, row]), currency="USD")
    assert [p.handle for p in parsed.products] == ["good-one"]
    (problem,) = parsed.problems
    assert problem.row == 3
    assert problem.column == column
    assert fragment in problem.message


def test_bad_variant_row_is_skipped_and_other_variants_kept() -> None:
    rows = [dict(TEE[0]), dict(TEE[1], **{"Variant Price": "-1"}), dict(TEE[2])]
    parsed = parse_products(_csv(rows), currency="USD")
    (tee,) = parsed.products
    assert [v.sku for v in tee.variants] == ["TEE-S-R"]
    assert [i.src for i in tee.images] == ["tee-front.jpg", "tee-side.jpg"]
    assert [(p.row, p.column) for p in parsed.problems] == [(3, "Variant Price")]
    assert parsed.rejected_rows == 1


def test_rows_of_a_rejected_product_are_reported_too() -> None:
    rows = [dict(TEE[0], Title=""), dict(TEE[1]), _base("other")]
    parsed = parse_products(_csv(rows), currency="USD")
    assert [p.handle for p in parsed.products] == ["other"]
    assert [(p.row, p.column) for p in parsed.problems] == [(2, "Title"), (3, "Handle")]
    assert "row 2" in parsed.problems[1].message


def test_duplicate_sku_and_duplicate_option_values_are_rejected() -> None:
    rows = [
        _base("a", **{"Variant SKU": "X1"}),
        _base("b", **{"Variant SKU": "x1"}),
        dict(TEE[0]),
        dict(TEE[1], **{"Option1 Value": "S", "Variant SKU": "TEE-OTHER"}),
    ]
    parsed = parse_products(_csv(rows), currency="USD")
    assert [p.handle for p in parsed.products] == ["a", "classic-tee"]
    assert [(p.row, p.column) for p in parsed.problems] == [
        (3, "Variant SKU"),
        (5, "Option1 Value"),
    ]
    assert "row 2" in parsed.problems[0].message


def test_default_title_option_means_no_options_and_published_sets_status() -> None:
    row = _base(
        "mug",
        **{"Option1 Name": "Title", "Option1 Value": "Default Title", "Published": "FALSE"},
    )
    (mug,) = parse_products(_csv([row]), currency="USD").products
    assert mug.options == []
    assert mug.variants[0].option_values == []
    assert mug.status == "draft"


def test_zero_decimal_currency_prices() -> None:
    (product,) = parse_products(
        _csv([_base("a", **{"Variant Price": "1500"})]), currency="JPY"
    ).products
    assert product.variants[0].price == 1500
    parsed = parse_products(_csv([_base("a", **{"Variant Price": "15.5"})]), currency="JPY")
    assert parsed.problems[0].message == "Use at most 0 decimal places."


def test_only_some_columns_is_enough() -> None:
    data = b"Handle,Title,Variant Price\r\nlamp,Lamp,12.5\r\n"
    (lamp,) = parse_products(data, currency="EUR").products
    assert lamp.variants[0].price == 1250
    assert lamp.variants[0].stock is None


def test_quoted_newlines_keep_spreadsheet_row_numbers_per_record() -> None:
    rows = [_base("a", **{"Body (HTML)": "<p>one\ntwo</p>"}), _base("b", **{"Variant Price": "x"})]
    parsed = parse_products(_csv(rows), currency="USD")
    assert parsed.products[0].description_html == "<p>one\ntwo</p>"
    assert parsed.problems[0].row == 3


# --- round trip ---------------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=30,
).map(lambda text: " ".join(text.split()))
_word = _text.filter(lambda text: text != "" and "," not in text)
_handle = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)


@st.composite
def _products(draw: st.DrawFn) -> list[ProductRecord]:
    handles = draw(st.lists(_handle, min_size=1, max_size=4, unique=True))
    products = []
    sku_counter = 0
    for handle in handles:
        options = draw(
            st.lists(_word, max_size=3, unique_by=str.casefold).filter(
                lambda names: names != ["Title"]
            )
        )
        count = draw(st.integers(1, 4)) if options else 1
        values = draw(
            st.lists(
                st.tuples(*[_word for _ in options]),
                min_size=count,
                max_size=count,
                unique_by=lambda combo: tuple(value.casefold() for value in combo),
            )
        )
        variants = []
        for combo in values:
            sku_counter += 1
            variants.append(
                VariantRecord(
                    option_values=list(combo),
                    price=draw(st.integers(0, 10**9)),
                    sku=draw(st.sampled_from([None, f"SKU-{sku_counter}"])),
                    compare_at_price=draw(st.none() | st.integers(0, 10**9)),
                    weight_grams=draw(st.integers(0, 100_000)),
                    stock=draw(st.none() | st.integers(0, 10_000)),
                )
            )
        image_count = draw(st.integers(0, 3))
        products.append(
            ProductRecord(
                handle=handle,
                title=draw(_text.filter(bool)),
                description_html=draw(st.sampled_from(["", '<p>Hello, "world"\nnew line</p>'])),
                vendor=draw(st.just("") | _text),
                product_type=draw(st.just("") | _text),
                tags=draw(st.lists(_word, max_size=3, unique_by=str.casefold)),
                status=draw(st.sampled_from(["draft", "active", "archived"])),
                options=options,
                variants=variants,
                images=[
                    ImageRecord(src=f"{handle}-{n}.jpg", position=n, alt=draw(st.just("") | _text))
                    for n in range(1, image_count + 1)
                ],
            )
        )
    return products


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(products=_products(), currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_export_then_parse_gives_the_same_products(
    products: list[ProductRecord], currency: str
) -> None:
    text = write_products(products, currency=currency)
    parsed = parse_products(text.encode("utf-8"), currency=currency)
    assert parsed.problems == []
    assert parsed.products == products
