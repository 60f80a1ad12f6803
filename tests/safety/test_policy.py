"""The isolation policy's rules, as pure functions: which faults ask for isolation, and what automation may do."""
from datetime import timedelta

import pytest
from django.utils import timezone

from assets.choices import Automation, Decision
from assets.models import Pool
from assets.policy import decide, isolation_asked

NOW = timezone.now()


def pool(**policy) -> Pool:
    return Pool(name="batch", **policy)


@pytest.mark.parametrize("max_unavailable, size, budget", [
    ("10%", 1000, 100), ("10%", 1009, 100), ("25%", 20, 5), ("10%", 5, 1), ("0%", 50, 0), ("7", 1000, 7),
    ("100%", 3, 3)])
def test_budget_is_a_count_or_a_share_rounded_down_but_at_least_one(max_unavailable, size, budget):
    assert pool(max_unavailable=max_unavailable).budget(size) == budget


@pytest.mark.parametrize("state, severity, repeat, warnings, asked", [
    ("active", "critical", False, 0, True),
    ("active", "critical", True, 0, False),       # a repeat of an incident already in hand
    ("active", "warning", False, 1, False),
    ("active", "warning", True, 3, True),          # the third warning within the window, repeats count
    ("active", "info", False, 0, False),
    ("returned", "warning", True, 1, True),        # probation is strict
    ("returned", "info", False, 0, False),
    ("isolated", "critical", False, 0, False),     # already out of service
])
def test_which_faults_ask_for_isolation(state, severity, repeat, warnings, asked):
    why = isolation_asked(pool=pool(), state=state, severity=severity, component="disk", is_repeat=repeat,
                          recent_warnings=warnings)
    assert bool(why) is asked


def test_a_pool_can_isolate_on_warnings_or_never():
    assert isolation_asked(pool=pool(isolate_on="warning"), state="active", severity="warning", component="disk",
                           is_repeat=False, recent_warnings=1)
    assert not isolation_asked(pool=pool(isolate_on="never", warning_count=0), state="active",
                               severity="critical", component="disk", is_repeat=False, recent_warnings=0)


def answer(p=None, **kw):
    args = {"pool": p or pool(), "excluded": False, "fleet_paused": False, "unavailable": 0, "pool_size": 100,
            "now": NOW}
    return decide(**{**args, **kw})


def test_within_budget_isolates_and_at_budget_asks_for_approval():
    assert answer(unavailable=9).decision == Decision.ISOLATED
    full = answer(unavailable=10)
    assert (full.decision, full.budget_hit) == (Decision.PENDING_APPROVAL, True)
    assert "10 of 100 out of service, at most 10" in full.reason


def test_storm_cooldown_holds_isolations_after_the_budget_was_hit():
    hit = pool(budget_hit_at=NOW - timedelta(minutes=5), storm_cooldown_minutes=30)
    assert answer(hit, unavailable=0).decision == Decision.PENDING_APPROVAL
    assert answer(hit, unavailable=0, now=NOW + timedelta(minutes=26)).decision == Decision.ISOLATED


def test_switches_come_before_the_budget():
    assert answer(fleet_paused=True).decision == Decision.PAUSED
    assert answer(pool(automation=Automation.PAUSED)).decision == Decision.PAUSED
    assert answer(excluded=True).decision == Decision.EXCLUDED
    dry = answer(pool(automation=Automation.DRY_RUN), unavailable=10)
    assert dry.decision == Decision.DRY_RUN and "would ask for approval" in dry.reason
    assert "would isolate" in answer(pool(automation=Automation.DRY_RUN)).reason
