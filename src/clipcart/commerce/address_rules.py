"""Pure address rules: normalise a shipping address and say, per field, what to fix."""

from __future__ import annotations

import re
from collections.abc import Mapping

from babel import Locale

FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone")
MAX_LENGTHS = {
    "name": 100,
    "line1": 200,
    "line2": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "country": 2,
    "phone": 32,
}

# Two-letter codes that are not countries a parcel can go to (unknown region, EU, UN...).
_NOT_COUNTRIES = frozenset({"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"})
COUNTRY_NAMES: dict[str, str] = {
    code: str(name)
    for code, name in Locale("en").territories.items()
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
}

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    # territories and military mail, which USPS delivers with the same codes
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico", "VI": "U.S. Virgin Islands", "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}  # fmt: skip

# Mainland China's province-level divisions (Hong Kong, Macao and Taiwan have their own
# country codes), by English name, with the Chinese names accepted too.
CN_PROVINCES: dict[str, str] = {
    "Anhui": "安徽", "Beijing": "北京", "Chongqing": "重庆", "Fujian": "福建", "Gansu": "甘肃",
    "Guangdong": "广东", "Guangxi": "广西", "Guizhou": "贵州", "Hainan": "海南",
    "Hebei": "河北", "Heilongjiang": "黑龙江", "Henan": "河南", "Hubei": "湖北",
    "Hunan": "湖南", "Inner Mongolia": "内蒙古", "Jiangsu": "江苏", "Jiangxi": "江西",
    "Jilin": "吉林", "Liaoning": "辽宁", "Ningxia": "宁夏", "Qinghai": "青海",
    "Shaanxi": "陕西", "Shandong": "山东", "Shanghai": "上海", "Shanxi": "山西",
    "Sichuan": "四川", "Tianjin": "天津", "Tibet": "西藏", "Xinjiang": "新疆",
    "Yunnan": "云南", "Zhejiang": "浙江",
}  # fmt: skip
_CN_ALIASES = {"xizang": "Tibet", "nei mongol": "Inner Mongolia", "neimenggu": "Inner Mongolia"}
_CN_SUFFIXES = ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区")

US_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
FIVE_DIGITS = re.compile(r"^\d{5}$")
SIX_DIGITS = re.compile(r"^\d{6}$")
# Royal Mail's format: outward code (area, district) then inward code (sector, unit).
GB_POSTCODE = re.compile(
    r"^(GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)
PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")


def _clean(value: object) -> str:
    """A field as text with surrounding and repeated spaces removed."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def country_name(code: str) -> str:
    """A country's English name, or the code when unknown."""
    return COUNTRY_NAMES.get(code, code)


def _us_state(region: str) -> str | None:
    upper = region.upper().replace(".", "")
    if upper in US_STATES:
        return upper
    by_name = {name.upper(): code for code, name in US_STATES.items()}
    return by_name.get(upper)


def _cn_province(region: str) -> str | None:
    lowered = region.lower()
    for name, chinese in CN_PROVINCES.items():
        if lowered in (name.lower(), f"{name.lower()} province", f"{name.lower()} shi"):
            return name
        if region == chinese or any(region == chinese + suffix for suffix in _CN_SUFFIXES):
            return name
    return _CN_ALIASES.get(lowered)


def _gb_postcode(postal_code: str) -> str | None:
    compact = postal_code.upper().replace(" ", "")
    if not GB_POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def _check_country(fields: dict[str, str], errors: dict[str, str]) -> None:
    country = fields["country"]
    region = fields["region"]
    postal = fields["postal_code"]
    if country == "US":
        state = _us_state(region) if region else None
        if not region:
            errors["region"] = "Choose a state, like CA or NY."
        elif state is None:
            errors["region"] = "Enter a valid 2-letter state code, like CA or NY."
        else:
            fields["region"] = state
        if not postal:
            errors["postal_code"] = "Enter a ZIP code, like 94103."
        elif not US_ZIP.match(postal):
            errors["postal_code"] = "Enter a 5-digit ZIP code, like 94103 (or ZIP+4, 94103-1234)."
    elif country == "GB":
        formatted = _gb_postcode(postal) if postal else None
        if not postal:
            errors["postal_code"] = "Enter a postcode, like SW1A 1AA."
        elif formatted is None:
            errors["postal_code"] = "Enter a valid UK postcode, like SW1A 1AA."
        else:
            fields["postal_code"] = formatted
    elif country in ("DE", "FR"):
        label, example = ("PLZ", "10115") if country == "DE" else ("code postal", "75001")
        if not postal:
            errors["postal_code"] = f"Enter a 5-digit postal code ({label}), like {example}."
        elif not FIVE_DIGITS.match(postal):
            errors["postal_code"] = (
                f"Enter a 5-digit postal code ({label}) with digits only, like {example}."
            )
    elif country == "CN":
        province = _cn_province(region) if region else None
        if not region:
            errors["region"] = "Choose a province, like Guangdong or Beijing."
        elif province is None:
            errors["region"] = "Choose a province of mainland China, like Guangdong or Beijing."
        else:
            fields["region"] = province
        if not postal:
            errors["postal_code"] = "Enter a 6-digit postal code, like 100000."
        elif not SIX_DIGITS.match(postal):
            errors["postal_code"] = "Enter a 6-digit postal code with digits only, like 100000."


def validate_address(fields: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Normalise an address and list what to fix per field: (fields, {field: message})."""
    clean = {field: _clean(fields.get(field)) for field in FIELDS}
    errors: dict[str, str] = {}
    clean["country"] = clean["country"].upper()
    if not clean["country"]:
        errors["country"] = "Choose a country."
    elif clean["country"] not in COUNTRY_NAMES:
        errors["country"] = "Choose a country from the list (a 2-letter code like US or GB)."
    if not clean["name"]:
        errors["name"] = "Enter the name of the person who will receive the parcel."
    if not clean["line1"]:
        errors["line1"] = "Enter the street address, like 1 Market Street."
    if not clean["city"]:
        errors["city"] = "Enter a town or city."
    if "country" not in errors:
        _check_country(clean, errors)
    phone = clean["phone"]
    if phone:
        digits = sum(char.isdigit() for char in phone)
        if not PHONE_ALLOWED.match(phone) or not 6 <= digits <= 15:
            errors["phone"] = "Enter a phone number with 6 to 15 digits, like +1 415 555 0100."
    for field, limit in MAX_LENGTHS.items():
        if field not in errors and len(clean[field]) > limit:
            errors[field] = f"Keep this under {limit + 1} characters."
    return clean, errors
