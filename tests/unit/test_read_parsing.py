"""Read parsing: the straight-line fast path never disagrees with the rule book (_parse_read).

``_fast_read`` may decline (None) whatever it is unsure of; when it answers, its ReadIn must be
the one ``_parse_read`` builds from the same input, with no error. Hypothesis mixes valid and
invalid values of every field so that both sides of each check are exercised.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alpr_guard.api.parsing import READ_FIELDS, _Errors, _fast_read, _parse_read, parse_read_batch
from alpr_guard.errors import ValidationError
from alpr_guard.policy.plates import normalise_plate

ANY_JSON = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
PLATES = st.one_of(
    st.sampled_from(
        ["7ABC123", "7abc123", "7 ABC-123", "７ＡＢＣ１２３", "ABCDEFGHIJ", "ABCDEFGHIJK"]
    ),
    st.sampled_from(["", " ", "ß", "7ÅBC", "AB#1", "a", "Z9"]),
    ANY_JSON,
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-11-19T08:00:00+00:00",
            "2026-11-19T08:00:00.123456Z",
            "2026-11-19T10:00:00+02:00",
            "2026-11-19T08:00:00",
            "yesterday",
        ]
    ),
    ANY_JSON,
)
CAMERAS = st.one_of(st.sampled_from(["cam-1", " cam-1 ", "", "-x", "cam 1", "c" * 65]), ANY_JSON)
STATES = st.one_of(st.sampled_from(["CA", "ca", " ny ", "California", "C"]), ANY_JSON)
NUMBERS = st.one_of(
    st.sampled_from([0, 1, 0.5, 37.77, -122.42, 90, -90, 180, -181, 91, 100, 101, 1.5]),
    ANY_JSON,
)
CLIENTS = st.one_of(st.sampled_from(["r-1", " r-1 ", "", "a b", "x" * 129]), ANY_JSON)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "plate": PLATES,
    "observed_at": TIMES,
    "camera_id": CAMERAS,
    "plate_state": STATES,
    "latitude": NUMBERS,
    "longitude": NUMBERS,
    "confidence": NUMBERS,
    "client_read_id": CLIENTS,
    "hit": st.one_of(
        st.sampled_from(
            [
                True,
                False,
                None,
                {"list": "SVS", "entry": "NCIC-1"},
                {"list": "SVS stolen vehicles", "entry": "7ABC123"},
                {"list": " SVS", "entry": "NCIC-1"},
                {"list": "SVS", "entry": ""},
                {"list": "SVS"},
                {"list": "SVS", "entry": "E", "by": "x"},
                {"list": 1, "entry": "E"},
            ]
        ),
        st.fixed_dictionaries({"list": ANY_JSON, "entry": ANY_JSON}),
        ANY_JSON,
    ),
    "retention_class": ANY_JSON,  # unknown fields are refused
}


@st.composite
def raw_reads(draw: st.DrawFn) -> dict[str, Any]:
    valid = {
        "plate": "7ABC123",
        "observed_at": "2026-11-19T08:00:00+00:00",
        "camera_id": "cam-1",
    }
    raw: dict[str, Any] = {k: v for k, v in valid.items() if draw(st.integers(0, 9))}
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=5)):
        raw[name] = draw(FIELDS[name])
    return raw


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b and type(a) is type(b))


@settings(max_examples=3000, deadline=None)
@given(raw_reads())
def test_fast_path_agrees_with_the_rule_book(raw: dict[str, Any]) -> None:
    errors = _Errors()
    slow = _parse_read(raw, "reads[0]", errors)
    fast = _fast_read(raw)
    if fast is None:
        return
    assert not errors.fields and slow is not None
    for name in READ_FIELDS:
        if name == "plate":
            assert fast.plate.value == slow.plate.value
        else:
            assert _same(getattr(fast, name), getattr(slow, name)), name
    assert fast.hit_ref == slow.hit_ref


def test_the_common_read_takes_the_fast_path() -> None:
    raw = {
        "plate": "7abc123",
        "observed_at": "2026-11-19T08:00:00.5+00:00",
        "camera_id": "cam-1",
        "plate_state": "ca",
        "latitude": 37.77,
        "longitude": -122.42,
        "confidence": 94,
        "client_read_id": "r-1",
        "hit": {"list": "SVS", "entry": "NCIC-V-1"},
    }
    read = _fast_read(raw)
    assert read is not None
    assert (read.plate.value, read.plate_state, read.confidence, read.hit) == (
        "7ABC123",
        "CA",
        0.94,
        True,
    )
    assert read.hit_ref == ("SVS", "NCIC-V-1")
    assert "NCIC" not in repr(read)  # an entry may be a plate: never in a repr
    assert read.observed_at.utcoffset() is not None


def test_batch_keeps_order_and_names_only_bad_reads() -> None:
    good = {"plate": "7ABC123", "observed_at": "2026-11-19T08:00:00Z", "camera_id": "cam-1"}
    reads = parse_read_batch({"reads": [good, {**good, "plate": "8 xyz-999"}]}, 10)
    assert [r.plate.value for r in reads] == ["7ABC123", "8XYZ999"]
    bad = [good, {**good, "latitude": 91, "longitude": 0}, {**good, "hit": 1}]
    with pytest.raises(ValidationError) as info:
        parse_read_batch({"reads": bad}, 10)
    assert list(info.value.fields) == ["reads[1].latitude", "reads[2].hit"]


def test_ascii_fast_path_of_normalise_plate_matches_the_full_rule() -> None:
    for raw in ["a", "Z9", "7abc123", "ABCDEFGHIJ", "0000000000"]:
        assert normalise_plate(raw) == raw.upper()


def test_a_hit_must_name_the_hot_list_and_entry_it_matched() -> None:
    good = {"plate": "7ABC123", "observed_at": "2026-11-19T08:00:00Z", "camera_id": "cam-1"}
    bad = [
        {**good, "hit": True},  # the camera's word alone
        {**good, "hit": {"list": "SVS"}},
        {**good, "hit": {"list": "", "entry": "E-1", "by": "x"}},
        {**good, "hit": "SVS"},
    ]
    with pytest.raises(ValidationError) as info:
        parse_read_batch({"reads": [good, *bad]}, 10)
    assert info.value.fields == {
        "reads[1].hit": 'must name the hot list and entry it matched: {"list": "...", '
        '"entry": "..."}',
        "reads[2].hit.entry": "must be 1-128 printable characters: the entry matched",
        "reads[3].hit.by": "unknown field",
        "reads[3].hit.list": "must be 1-64 printable characters naming the hot list",
        "reads[4].hit": 'must name the hot list and entry it matched: {"list": "...", '
        '"entry": "..."}',
    }
    # false, null or absent: not a hit.
    reads = parse_read_batch({"reads": [good, {**good, "hit": False}, {**good, "hit": None}]}, 10)
    assert [(r.hit, r.hit_ref) for r in reads] == [(False, None)] * 3
