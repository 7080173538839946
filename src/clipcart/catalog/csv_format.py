"""The Shopify product CSV: parse and validate it into products (writing is csv_writing.py).

Pure and framework-free. A file that cannot be read at all (not UTF-8, no header, required
columns missing) raises CsvFormatError; a bad row is reported as a RowProblem (row number as a
spreadsheet shows it, column, what is wrong) and skipped, and the good rows are kept."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from clipcart.catalog import domain
from clipcart.core.money import minor_unit_exponent

REQUIRED_COLUMNS: tuple[str, ...] = ("Handle", "Title", "Variant Price")
EXPORT_COLUMNS: tuple[str, ...] = (
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Product Category",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Status",
)
# Shopify writes a single-variant product as option "Title" with the value "Default Title".
DEFAULT_OPTION_NAME = "Title"
DEFAULT_OPTION_VALUE = "Default Title"
MAX_ROWS = 200_000
_VARIANT_COLUMNS = (
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Price",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Compare At Price",
)


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported; the message says what to do."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one row (row 1 is the header, as in a spreadsheet)."""

    row: int
    column: str
    message: str


@dataclass(slots=True)
class VariantRecord:
    """One variant line; money in minor units, stock None when the file leaves it empty."""

    option_values: list[str]
    price: int
    sku: str | None = None
    compare_at_price: int | None = None
    weight_grams: int = 0
    stock: int | None = None
    row: int = field(default=0, compare=False)


@dataclass(slots=True)
class ImageRecord:
    """An image reference: a file name (looked up in the zip) or a URL (never fetched)."""

    src: str
    position: int
    alt: str = ""
    row: int = field(default=0, compare=False)


@dataclass(slots=True)
class ProductRecord:
    """One product of the file: its first row's fields, its variants and images."""

    handle: str
    title: str
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    status: str = "active"
    options: list[str] = field(default_factory=list)
    variants: list[VariantRecord] = field(default_factory=list)
    images: list[ImageRecord] = field(default_factory=list)
    row: int = field(default=0, compare=False)


@dataclass(slots=True)
class ParsedFile:
    """The good products of a file and the problems of its bad rows."""

    products: list[ProductRecord]
    problems: list[RowProblem]
    total_rows: int

    @property
    def rejected_rows(self) -> int:
        """How many distinct rows were skipped."""
        return len({problem.row for problem in self.problems})


# --- reading ------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """The file's text; UTF-8 with or without a byte-order mark, anything else refused."""
    if not data.strip():
        raise CsvFormatError("The file is empty. Export your products as CSV and upload that.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFormatError(
            "The file is UTF-16 text, not UTF-8. Save it as “CSV UTF-8” and upload it again."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFormatError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} at position "
            f"{error.start} is not valid UTF-8; it may be Latin-1 or Windows-1252). "
            "Save it as “CSV UTF-8” and upload it again."
        ) from error
    if "\x00" in text:
        raise CsvFormatError(
            "The file contains NUL bytes, so it is not a UTF-8 CSV (maybe UTF-16). "
            "Save it as “CSV UTF-8” and upload it again."
        )
    return text


def _read_header(reader: Iterable[list[str]]) -> list[str]:
    try:
        header = [name.strip() for name in next(iter(reader))]
    except StopIteration as error:
        raise CsvFormatError("The file has no header row.") from error
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise CsvFormatError(f"The header repeats these columns: {', '.join(duplicates)}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise CsvFormatError(
            f"Required columns are missing: {', '.join(missing)}. "
            "Use Shopify's product CSV format (first row: Handle, Title, ...)."
        )
    return header


def _money(text: str, column: str, exponent: int) -> int:
    try:
        value = Decimal(text.replace(",", "") if text.count(".") == 1 else text)
    except InvalidOperation as error:
        raise _Bad(column, f"“{text}” is not a number.") from error
    if not value.is_finite():
        raise _Bad(column, f"“{text}” is not a number.")
    if value < 0:
        raise _Bad(column, "The price cannot be negative.")
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise _Bad(column, f"Use at most {exponent} decimal places.")
    if minor > domain.MAX_PRICE:
        raise _Bad(column, "The price is too large.")
    return int(minor)


def _whole(text: str, column: str, what: str, maximum: int) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise _Bad(column, f"“{text}” is not a whole number.") from error
    if not value.is_finite() or value != value.to_integral_value():
        raise _Bad(column, f"“{text}” is not a whole number.")
    if value < 0:
        raise _Bad(column, f"{what} cannot be negative.")
    if value > maximum:
        raise _Bad(column, f"{what} is too large.")
    return int(value)


class _Bad(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


def _status(cells: dict[str, str]) -> str:
    status = cells.get("Status", "").lower()
    if status:
        if status not in domain.PRODUCT_STATUSES:
            raise _Bad("Status", f"Use one of: {', '.join(domain.PRODUCT_STATUSES)}.")
        return status
    published = cells.get("Published", "").lower()
    return "draft" if published in {"false", "no", "0"} else "active"


def _product(cells: dict[str, str], row: int) -> ProductRecord:
    handle = cells["Handle"].lower()
    for problem in domain.handle_problems(handle):
        raise _Bad("Handle", problem)
    title = cells.get("Title", "")
    if not title:
        raise _Bad("Title", "The first row of a product needs a title.")
    if len(title) > 255:
        raise _Bad("Title", "Use at most 255 characters.")
    if len(cells.get("Body (HTML)", "")) > domain.DESCRIPTION_MAX:
        raise _Bad("Body (HTML)", f"Use at most {domain.DESCRIPTION_MAX} characters.")
    category = cells.get("Product Category", "")
    if category:
        found = domain.find_category(category)
        if found is not None and found.prohibited:
            raise _Bad("Product Category", f"Products in “{found.path}” cannot be sold.")
    options = [" ".join(cells.get(f"Option{n} Name", "").split()) for n in (1, 2, 3)]
    while options and not options[-1]:
        options.pop()
    if options == [DEFAULT_OPTION_NAME]:
        options = []
    if any(not name for name in options):
        raise _Bad("Option1 Name", "Option names cannot be empty between two others.")
    if len({name.casefold() for name in options}) != len(options):
        raise _Bad("Option1 Name", "Option names must be different.")
    tags = domain.normalize_tags(cells.get("Tags", "").split(","))
    return ProductRecord(
        handle=handle,
        title=title,
        description_html=cells.get("Body (HTML)", ""),
        vendor=cells.get("Vendor", "")[:255],
        product_type=cells.get("Type", "")[:255],
        category=category,
        tags=tags[: domain.MAX_TAGS],
        status=_status(cells),
        options=options,
        row=row,
    )


def _is_variant_row(cells: dict[str, str]) -> bool:
    return any(cells.get(column) for column in _VARIANT_COLUMNS)


def _variant(
    cells: dict[str, str], product: ProductRecord, row: int, exponent: int
) -> VariantRecord:
    values = [
        " ".join(cells.get(f"Option{n} Value", "").split())
        for n in range(1, len(product.options) + 1)
    ]
    if not product.options:
        extra = cells.get("Option1 Value", "")
        if extra and extra != DEFAULT_OPTION_VALUE:
            raise _Bad("Option1 Value", "The product has no options, so leave this empty.")
    for number, value in enumerate(values, start=1):
        if not value:
            raise _Bad(
                f"Option{number} Value", f"Give a value for “{product.options[number - 1]}”."
            )
    price_text = cells.get("Variant Price", "")
    if not price_text:
        raise _Bad("Variant Price", "Enter a price.")
    price = _money(price_text, "Variant Price", exponent)
    compare_text = cells.get("Variant Compare At Price", "")
    compare = _money(compare_text, "Variant Compare At Price", exponent) if compare_text else None
    grams_text = cells.get("Variant Grams", "")
    grams = _whole(grams_text, "Variant Grams", "The weight", 1_000_000) if grams_text else 0
    stock_text = cells.get("Variant Inventory Qty", "")
    stock = (
        _whole(stock_text, "Variant Inventory Qty", "Stock", domain.MAX_STOCK)
        if stock_text
        else None
    )
    sku = cells.get("Variant SKU", "")
    if len(sku) > 100:
        raise _Bad("Variant SKU", "Use at most 100 characters.")
    return VariantRecord(
        option_values=values,
        price=price,
        sku=sku or None,
        compare_at_price=compare,
        weight_grams=grams,
        stock=stock,
        row=row,
    )


def _image(cells: dict[str, str], row: int, default_position: int) -> ImageRecord | None:
    src = cells.get("Image Src", "")
    if not src:
        return None
    position_text = cells.get("Image Position", "")
    position = (
        _whole(position_text, "Image Position", "The position", 1000)
        if position_text
        else default_position
    )
    return ImageRecord(
        src=src, position=position, alt=cells.get("Image Alt Text", "")[:255], row=row
    )


class _Builder:
    """Groups rows by handle, keeping each product's good rows and reporting the bad ones."""

    def __init__(self, exponent: int) -> None:
        self.exponent = exponent
        self.products: dict[str, ProductRecord] = {}
        self.rejected_handles: dict[str, int] = {}  # handle -> its rejected first row
        self.problems: list[RowProblem] = []
        self.skus: dict[str, int] = {}  # casefolded SKU -> row that has it

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(RowProblem(row, column, message))

    def add(self, cells: dict[str, str], row: int) -> None:
        handle = cells.get("Handle", "").lower()
        if not handle:
            self.problem(row, "Handle", "Every row needs the handle of its product.")
            return
        if handle in self.rejected_handles:
            first = self.rejected_handles[handle]
            self.problem(
                row, "Handle", f"Skipped: the first row of “{handle}” (row {first}) was rejected."
            )
            return
        product = self.products.get(handle)
        if product is None:
            try:
                product = _product(cells, row)
            except _Bad as bad:
                self.rejected_handles[handle] = row
                self.problem(row, bad.column, bad.message)
                return
            self.products[handle] = product
        try:
            image = _image(cells, row, len(product.images) + 1)
            variant = (
                _variant(cells, product, row, self.exponent)
                if _is_variant_row(cells) or row == product.row
                else None
            )
        except _Bad as bad:
            self.problem(row, bad.column, bad.message)
            return
        if variant is not None and not self._accept_variant(product, variant):
            return
        if image is not None:
            product.images.append(image)

    def _accept_variant(self, product: ProductRecord, variant: VariantRecord) -> bool:
        values = [value.casefold() for value in variant.option_values]
        for other in product.variants:
            if [value.casefold() for value in other.option_values] == values:
                shown = " / ".join(variant.option_values) or DEFAULT_OPTION_VALUE
                self.problem(
                    variant.row,
                    "Option1 Value",
                    f"Another row of “{product.handle}” (row {other.row}) is already “{shown}”.",
                )
                return False
        if len(product.variants) >= domain.MAX_VARIANTS_PER_PRODUCT:
            self.problem(
                variant.row,
                "Handle",
                f"A product can have at most {domain.MAX_VARIANTS_PER_PRODUCT} variants.",
            )
            return False
        if variant.sku is not None:
            key = variant.sku.casefold()
            if key in self.skus:
                self.problem(
                    variant.row,
                    "Variant SKU",
                    f"The SKU {variant.sku} is already used on row {self.skus[key]}.",
                )
                return False
            self.skus[key] = variant.row
        product.variants.append(variant)
        return True

    def finish(self) -> list[ProductRecord]:
        kept = []
        for product in self.products.values():
            if product.variants:
                product.images.sort(key=lambda image: image.position)
                kept.append(product)
            else:
                # its variant rows were all rejected, and their problems are already reported
                covered = any(problem.row == product.row for problem in self.problems)
                if not covered:
                    self.problem(product.row, "Variant Price", "The product has no valid variant.")
        self.problems.sort(key=lambda problem: problem.row)
        return kept


def parse_products(data: bytes, *, currency: str) -> ParsedFile:
    """Read a Shopify product CSV (prices in major units of `currency`) into products."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    try:
        header = _read_header(reader)
        builder = _Builder(minor_unit_exponent(currency))
        total = 0
        for index, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            total += 1
            if total > MAX_ROWS:
                raise CsvFormatError(f"The file has more than {MAX_ROWS} rows; split it.")
            if len(values) > len(header):
                builder.problem(
                    index, "", f"The row has {len(values)} cells, the header {len(header)}."
                )
                continue
            cells = {
                name: value.strip() for name, value in zip(header, values, strict=False) if name
            }
            builder.add(cells, index)
    except csv.Error as error:
        raise CsvFormatError(f"The file is not a readable CSV: {error}.") from error
    products = builder.finish()
    return ParsedFile(products=products, problems=builder.problems, total_rows=total)
