"""Address rules per country: what is normalised and the message for each field to fix."""

from __future__ import annotations

import pytest

from clipcart.commerce.address_rules import validate_address


def address(**fields: str) -> dict[str, str]:
    base = {"name": "Ada Buyer", "line1": "1 Main St", "city": "Springfield"}
    return {**base, **fields}


def test_a_us_address_is_normalised() -> None:
    clean, errors = validate_address(
        address(country="us", region="california", postal_code=" 94103-1234 ", name="  Ada   B ")
    )
    assert errors == {}
    assert clean["country"] == "US"
    assert clean["region"] == "CA"
    assert clean["postal_code"] == "94103-1234"
    assert clean["name"] == "Ada B"
    assert clean["line2"] == "" and clean["phone"] == ""


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"region": "CA", "postal_code": "9410"},
            "postal_code",
            "Enter a 5-digit ZIP code, like 94103",
        ),
        ({"region": "CA", "postal_code": "ABCDE"}, "postal_code", "5-digit ZIP code"),
        ({"region": "CA", "postal_code": ""}, "postal_code", "Enter a ZIP code, like 94103."),
        ({"region": "XX", "postal_code": "94103"}, "region", "valid 2-letter state code"),
        ({"region": "", "postal_code": "94103"}, "region", "Choose a state"),
    ],
)
def test_us_problems(fields: dict[str, str], field: str, message: str) -> None:
    _, errors = validate_address(address(country="US", **fields))
    assert list(errors) == [field]
    assert message in errors[field]


@pytest.mark.parametrize(
    ("raw", "formatted"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("m1 1ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("DN551PT", "DN55 1PT"),
        ("GIR 0AA", "GIR 0AA"),
    ],
)
def test_uk_postcodes_are_upper_cased_with_the_space(raw: str, formatted: str) -> None:
    clean, errors = validate_address(address(country="GB", postal_code=raw))
    assert errors == {}
    assert clean["postal_code"] == formatted
    assert clean["region"] == ""  # the county is optional


@pytest.mark.parametrize("raw", ["12345", "QQ1 1AA", "SW1A 1A", "SW1A 1CI", ""])
def test_bad_uk_postcodes(raw: str) -> None:
    _, errors = validate_address(address(country="GB", postal_code=raw))
    assert "postcode" in errors["postal_code"] and "SW1A 1AA" in errors["postal_code"]


@pytest.mark.parametrize(("country", "example"), [("DE", "10115"), ("FR", "75001")])
def test_germany_and_france_want_five_digits(country: str, example: str) -> None:
    assert validate_address(address(country=country, postal_code=example))[1] == {}
    _, errors = validate_address(address(country=country, postal_code="1011"))
    assert "5-digit postal code" in errors["postal_code"] and example in errors["postal_code"]


def test_china_wants_a_province_and_six_digits() -> None:
    clean, errors = validate_address(address(country="CN", region="广东省", postal_code="510000"))
    assert errors == {}
    assert clean["region"] == "Guangdong"
    clean, errors = validate_address(address(country="CN", region="beijing", postal_code="100000"))
    assert errors == {} and clean["region"] == "Beijing"
    _, errors = validate_address(address(country="CN", region="Atlantis", postal_code="10000"))
    assert "province" in errors["region"]
    assert "6-digit postal code" in errors["postal_code"]
    _, errors = validate_address(address(country="CN", postal_code="100000"))
    assert errors["region"] == "Choose a province, like Guangdong or Beijing."


def test_other_countries_need_name_street_and_city_only() -> None:
    clean, errors = validate_address(address(country="jp"))
    assert errors == {} and clean["country"] == "JP"
    _, errors = validate_address({"country": "JP"})
    assert set(errors) == {"name", "line1", "city"}
    assert errors["city"] == "Enter a town or city."


def test_every_problem_is_listed_at_once() -> None:
    _, errors = validate_address({"country": "US", "postal_code": "1", "phone": "call me"})
    assert set(errors) == {"name", "line1", "city", "region", "postal_code", "phone"}


def test_unknown_or_missing_country() -> None:
    assert validate_address(address(country="XX"))[1]["country"].startswith("Choose a country")
    assert validate_address(address(country="EU"))[1]["country"].startswith("Choose a country")
    assert validate_address(address())[1] == {"country": "Choose a country."}


def test_phone_and_lengths() -> None:
    assert validate_address(address(country="JP", phone="+81 3-1234-5678"))[1] == {}
    assert "phone" in validate_address(address(country="JP", phone="12"))[1]
    _, errors = validate_address(address(country="JP", city="x" * 101))
    assert errors == {"city": "Keep this under 101 characters."}
