"""A pool's isolation policy: which faults ask for an isolation, and whether automation may grant it.

Pure functions over plain values, so every rule reads in one place and is tested without a database.
the lifecycle (lifecycle/) gathers the numbers (under the pool's row lock) and acts on the answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from assets.choices import AssetState, Automation, Decision, IsolateOn, Severity

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
ISOLATE_ON_RANK = {IsolateOn.WARNING: 1, IsolateOn.CRITICAL: 2, IsolateOn.NEVER: 99}


def isolation_asked(*, pool, state: str, severity: str, component: str, is_repeat: bool,
                    recent_warnings: int) -> str | None:
    """Why this fault asks for its machine to be isolated, in words for the audit; None if it does not.

    `recent_warnings` counts the warnings of this machine and component within the pool's warning window,
    this one included.
    """
    if state == AssetState.RETURNED and severity in (Severity.WARNING, Severity.CRITICAL):
        return "during probation"
    if state != AssetState.ACTIVE:
        return None
    if not is_repeat and SEVERITY_RANK[severity] >= ISOLATE_ON_RANK[pool.isolate_on]:
        return f"pool {pool.name} isolates on {pool.isolate_on}"
    if severity == Severity.WARNING and pool.warning_count and recent_warnings >= pool.warning_count:
        return (f"{recent_warnings} {component} warnings within {pool.warning_window_minutes} min "
                f"(pool {pool.name} isolates at {pool.warning_count})")
    return None


@dataclass(frozen=True)
class Answer:
    decision: Decision
    reason: str
    budget_hit: bool = False


def decide(*, pool, excluded: bool, fleet_paused: bool, unavailable: int, pool_size: int,
           now: datetime) -> Answer:
    """May automation isolate one more machine of `pool` now? The order matters: switches first, then the budget."""
    if fleet_paused:
        return Answer(Decision.PAUSED, "automation is paused fleet-wide")
    if pool.automation == Automation.PAUSED:
        return Answer(Decision.PAUSED, f"automation is paused for pool {pool.name}")
    if excluded:
        return Answer(Decision.EXCLUDED, "the asset is excluded from automation")

    budget = pool.budget(pool_size)
    if unavailable + 1 > budget:
        answer = Answer(Decision.PENDING_APPROVAL,
                        f"pool {pool.name} budget: {unavailable} of {pool_size} out of service, at most "
                        f"{budget} ({pool.max_unavailable})", budget_hit=True)
    elif pool.budget_hit_at and now < pool.budget_hit_at + timedelta(minutes=pool.storm_cooldown_minutes):
        answer = Answer(Decision.PENDING_APPROVAL,
                        f"storm cooldown: pool {pool.name} hit its budget at {pool.budget_hit_at:%H:%M} UTC; "
                        f"automation resumes {pool.storm_cooldown_minutes} min later")
    else:
        answer = Answer(Decision.ISOLATED, f"within pool {pool.name} budget ({unavailable + 1} of at most {budget})")

    if pool.automation == Automation.DRY_RUN:
        would = "isolate" if answer.decision == Decision.ISOLATED else "ask for approval"
        return Answer(Decision.DRY_RUN, f"dry run: would {would} ({answer.reason})")
    return answer
