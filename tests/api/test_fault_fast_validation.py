"""A fault batch is checked by compiled rules (assets/api/serializers._FaultIn) and, for whatever they do not
take as it is, by FaultInSerializer. The two must never disagree: whatever the fast path accepts, the serializer
accepts with exactly the same values."""
import pytest
from django.utils import timezone
from rest_framework import serializers

from assets.api.serializers import FaultInSerializer, _fast_check, faults_validate

GOOD = {"asset": "host-001", "component": "disk", "severity": "warning", "summary": "SMART reallocated sectors"}

ITEMS = [
    GOOD,
    {**GOOD, "details": {"sectors": 12, "nested": {"a": [1, 2.5, None]}}},
    {**GOOD, "details": {}},
    {**GOOD, "event_id": ""},
    {**GOOD, "event_id": "evt-1"},
    {**GOOD, "observed_at": "2026-12-03T10:00:00Z"},
    {**GOOD, "observed_at": "2026-12-03T10:00:00.123456+02:00"},
    {**GOOD, "severity": "critical", "component": "memory"},
    # what the fast path leaves to the serializer (some accepted there, some refused)
    {**GOOD, "observed_at": "2026-12-03T10:00:00"},  # naive: the server's time zone
    {**GOOD, "observed_at": "0001-01-01T00:30:00+01:00"},  # before year 1 once in UTC
    {**GOOD, "observed_at": "9999-12-31T23:59:59-01:00"},  # after year 9999 once in UTC
    {**GOOD, "summary": "  padded  "},
    {**GOOD, "summary": "température élevée"},
    {**GOOD, "summary": "nul\x00byte"},
    {**GOOD, "summary": ""},
    {**GOOD, "summary": 42},
    {**GOOD, "summary": "x" * 501},
    {**GOOD, "asset": "h" * 254},
    {**GOOD, "asset": None},
    {**GOOD, "details": None},
    {**GOOD, "details": [1, 2]},
    {**GOOD, "observed_at": None},
    {**GOOD, "observed_at": "yesterday"},
    {**GOOD, "observed_at": "2026-12-03"},
    {**GOOD, "event_id": None},
    {**GOOD, "event_id": "  "},
    {**GOOD, "event_id": "e" * 201},
    {**GOOD, "severity": "fatal"},
    {**GOOD, "component": "Disk"},
    {**GOOD, "reson": "typo"},
    {k: v for k, v in GOOD.items() if k != "summary"},
    {},
]


def serializer_says(item):
    try:
        return dict(FaultInSerializer().run_validation(item))
    except serializers.ValidationError as error:
        return error


@pytest.mark.parametrize("item", ITEMS, ids=[repr(i)[:60] for i in ITEMS])
def test_the_fast_path_never_takes_what_the_serializer_would_not_take_as_it_is(item):
    fast = _fast_check(item, timezone.get_current_timezone())
    judged = serializer_says(item)
    if fast is not None:
        assert not isinstance(judged, serializers.ValidationError), "fast path took what the serializer refuses"
        assert fast == judged


def test_well_formed_items_take_the_fast_path():
    for item in ITEMS[:8]:
        assert _fast_check(item, timezone.get_current_timezone()) is not None, item


def test_a_batch_answers_as_the_serializer_does():
    # given the same items through the batch validator and through the serializer one by one
    checked = faults_validate(ITEMS + ["not an object"])
    # then each valid item has the serializer's values, and each refused one names its field
    for item, result in zip(ITEMS, checked):
        judged = serializer_says(item)
        if isinstance(judged, serializers.ValidationError):
            assert isinstance(result, str) and ": " in result, (item, result)
        else:
            assert result == judged
    assert checked[-1] == "item: expected a JSON object"
