"""Vendor mappings: any body gives reads or a ValidationError naming vendor fields, never
another exception and never a value in the message; the quirks tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_guard.api import vendors
from alpr_guard.errors import ValidationError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
MAPPERS = {
    "rekor_alpr_group.json": vendors.rekor,
    "rekor_alpr_results.json": vendors.rekor,
    "platerecognizer_stream.json": vendors.plate_recognizer,
    "verkada_lpr.json": vendors.verkada,
}
MARKER = "QQ7ZZ99"  # a plate-shaped value that must never appear in an error

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.just(MARKER),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _map(name: str, body: object) -> list[vendors.VendorRead] | ValidationError:
    """The reads, or the ValidationError the mapping raised (any other exception escapes)."""
    try:
        return vendors.to_reads(MAPPERS[name](body), 1000, 1_048_576)
    except ValidationError as exc:
        return exc


@pytest.mark.parametrize("name", sorted(MAPPERS))
def test_each_published_sample_maps(name: str) -> None:
    body = json.loads((FIXTURES / name).read_text())
    batch = MAPPERS[name](body)
    assert batch.reads and not batch.errors
    assert batch.ignored == 0  # every field of the vendor's own sample is documented here


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=json_values)
@pytest.mark.parametrize("name", sorted(MAPPERS))
def test_any_body_is_reads_or_a_named_refusal(name: str, body: Any) -> None:
    result = _map(name, body)
    if isinstance(result, ValidationError):
        assert result.fields
        assert MARKER not in result.message and MARKER not in json.dumps(result.fields)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(MAPPERS))
def test_any_field_of_a_sample_replaced_is_reads_or_a_named_refusal(
    name: str, data: st.DataObject
) -> None:
    body = json.loads((FIXTURES / name).read_text())
    target = body["data"] if "data" in body and isinstance(body["data"], dict) else body
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(json_values)
    result = _map(name, body)
    if isinstance(result, ValidationError):
        assert MARKER not in result.message and MARKER not in json.dumps(result.fields)
        return
    for item in result:
        assert 0 <= (item.read.confidence or 0) <= 1


@pytest.mark.parametrize(
    ("vendor", "code", "state"),
    [
        ("rekor", "us-ca", "CA"),
        ("rekor", "mo", "MO"),  # older agents: a bare US state
        ("platerecognizer", "gb", None),  # a country, not a state
        ("platerecognizer", "ca", None),  # Canada, not California
        ("platerecognizer", "us-ny", "NY"),
        ("verkada", "us-ca", "CA"),
        ("verkada", "fr-75", None),
        ("rekor", "", None),
    ],
)
def test_region_codes(vendor: str, code: str, state: str | None) -> None:
    assert vendors.region_to_state(vendors.VENDORS[vendor], code) == state


def test_image_checks() -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"x" * 100
    assert vendors.decode_image(jpeg, 1000) == ("image/jpeg", jpeg)
    with pytest.raises(ValueError, match="at most"):
        vendors.decode_image(jpeg, 50)
    with pytest.raises(ValueError, match="JPEG or PNG"):
        vendors.decode_image("bm90IGFuIGltYWdl", 1000)  # base64 of "not an image"
    with pytest.raises(ValueError, match="JPEG or PNG"):
        vendors.decode_image("***", 1000)
    with pytest.raises(ValueError, match="at most"):
        vendors.decode_image("A" * 10_000, 1000)  # refused before decoding
