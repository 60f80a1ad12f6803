"""The contract's lifecycle table, walked row by row: every (state, transition) pair is either allowed, with its
audit row, or refused with TransitionConflict, the state unchanged and the transitions a person may ask for."""
import itertools

import pytest

from assets.choices import AssetState as S
from assets.choices import Transition as T
from assets.models import Asset, AssetTransition
import lifecycle
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from tests.assets.helpers import healthy_report, missing_dimm_report, put_in_state

# The contract's table: (from, transition) → to. Every pair not listed is forbidden.
TABLE = {
    (S.ACTIVE, T.ISOLATE): S.ISOLATED,
    (S.RETURNED, T.ISOLATE): S.ISOLATED,
    (S.ISOLATED, T.START_REPAIR): S.IN_REPAIR,
    (S.ISOLATED, T.DISMISS): S.ACTIVE,
    (S.IN_REPAIR, T.START_VERIFICATION): S.VERIFYING,
    (S.VERIFYING, T.PASS_VERIFICATION): S.RETURNED,
    (S.VERIFYING, T.FAIL_VERIFICATION): S.IN_REPAIR,
    (S.RETURNED, T.END_PROBATION): S.ACTIVE,
    (S.ISOLATED, T.RETIRE): S.RETIRED,
    (S.IN_REPAIR, T.RETIRE): S.RETIRED,
    (S.RETIRED, T.REINSTATE): S.ISOLATED,
    (S.NEW, T.ACCEPT_DELIVERY): S.ACTIVE,
    (S.NEW, T.FAIL_DELIVERY): S.NEW,
    (S.NEW, T.INSPECT_DELIVERY): S.NEW,
}
PASSING = {T.PASS_VERIFICATION, T.ACCEPT_DELIVERY}
DELIVERY_VERDICTS = {T.ACCEPT_DELIVERY, T.FAIL_DELIVERY}
MACHINE_ONLY = {T.PASS_VERIFICATION, T.FAIL_VERIFICATION} | DELIVERY_VERDICTS
MANUAL = [t for t in T if t not in MACHINE_ONLY]
# What a person may ask for in each state: the table's rows minus the verdicts.
MANUAL_FROM = {state: sorted(t for (s, t) in TABLE if s == state and t in MANUAL) for state in S}
STEPS = {
    T.ISOLATE: lifecycle.isolate,
    T.START_REPAIR: lifecycle.start_repair,
    T.DISMISS: lifecycle.dismiss,
    T.START_VERIFICATION: lifecycle.start_verification,
    T.END_PROBATION: lifecycle.end_probation,
    T.RETIRE: lifecycle.retire,
    T.REINSTATE: lifecycle.reinstate,
    T.INSPECT_DELIVERY: lifecycle.inspect_delivery,
}
ALL_PAIRS = list(itertools.product(S, T))


def _verdict(asset: Asset, transition: str) -> Inspection:
    """The machine's transitions are an inspection's verdict: finish the asset's verification (or delivery)
    inspection with a healthy report (pass) or one missing half its memory (fail)."""
    purpose = Purpose.DELIVERY if transition in DELIVERY_VERDICTS else Purpose.VERIFICATION
    # One inspection in flight per asset: the one the state set up is given the verdict's purpose.
    Inspection.objects.filter(asset=asset, verdict=Verdict.PENDING).update(purpose=purpose)
    inspection = (Inspection.objects.filter(asset=asset, verdict=Verdict.PENDING).first()
                  or Inspection.objects.create(asset=asset, purpose=purpose))
    model = asset.hardware_model
    report = healthy_report(model) if transition in PASSING else missing_dimm_report(model)
    return lifecycle.inspection_finished(inspection_id=inspection.id, report=report, runner="agent:host-001")


def test_the_table_covers_every_pair():
    assert len(ALL_PAIRS) == len(S) * len(T)
    assert {t for (_, t) in TABLE} == set(T)


@pytest.mark.parametrize(("state", "transition"), ALL_PAIRS, ids=[f"{s}-{t}" for s, t in ALL_PAIRS])
def test_transition_table(asset, state, transition):
    # given an asset in `state`
    asset = put_in_state(asset, state)
    target = TABLE.get((state, transition))

    if target and transition in MACHINE_ONLY:
        # when the verification inspection finishes with the verdict
        inspection = _verdict(asset, transition)

        # then the asset moves, audited as the inspection's doing
        assert Asset.objects.get(pk=asset.pk).state == target
        row = AssetTransition.objects.get(asset=asset)
        assert (row.transition, row.source, row.target) == (transition, state, target)
        assert row.actor == f"job:inspection #{inspection.id}"
        assert inspection.summary and inspection.summary in row.reason

    elif target:
        # when staff asks for an allowed transition
        STEPS[transition](asset_id=asset.id, actor="alice", reason="checked by hand")

        # then the asset is in the target state, with one audit row saying who, why, from and to
        asset.refresh_from_db()
        assert asset.state == target
        row = AssetTransition.objects.get(asset=asset)
        assert (row.transition, row.source, row.target, row.actor) == (transition, state, target, "alice")
        assert "checked by hand" in row.reason
        assert row.at == asset.state_changed_at

    elif transition in MANUAL:
        # when staff asks for a forbidden transition
        with pytest.raises(lifecycle.TransitionConflict) as conflict:
            STEPS[transition](asset_id=asset.id, actor="alice", reason="checked by hand")

        # then it is refused, saying what is allowed instead, and nothing changed
        assert conflict.value.state == state
        assert sorted(conflict.value.allowed) == MANUAL_FROM[state]
        assert asset.hostname in conflict.value.detail
        assert Asset.objects.get(pk=asset.pk).state == state
        assert not AssetTransition.objects.filter(asset=asset).exists()

    else:
        # when a verification verdict arrives for an asset that is not verifying
        inspection = _verdict(asset, transition)

        # then the verdict is recorded but the asset does not move
        assert inspection.finished
        assert Asset.objects.get(pk=asset.pk).state == state
        assert not AssetTransition.objects.filter(asset=asset).exists()
        # and a person cannot ask for it either
        with pytest.raises(lifecycle.TransitionConflict) as conflict:
            lifecycle.request_transition(asset=asset, transition=transition, actor="alice", reason="by hand")
        assert sorted(conflict.value.allowed) == MANUAL_FROM[state]


@pytest.mark.parametrize("state", list(S))
def test_manual_transitions_follow_the_table(asset, state):
    # given an asset in `state`
    asset = put_in_state(asset, state)

    # then the transitions a person may ask for are the table's manual rows from that state
    assert sorted(asset.manual_transitions()) == MANUAL_FROM[state]


ALLOWED_MANUAL = [(s, t) for (s, t) in TABLE if t in MANUAL]


@pytest.mark.parametrize(("state", "transition"), ALLOWED_MANUAL, ids=[f"{s}-{t}" for s, t in ALLOWED_MANUAL])
def test_request_transition_performs_allowed_manual_transitions(asset, state, transition):
    # given an asset in `state`
    asset = put_in_state(asset, state)

    # when staff asks for the transition by name
    lifecycle.request_transition(asset=asset, transition=transition, actor="alice", reason="by hand")

    # then it happened, audited
    assert Asset.objects.get(pk=asset.pk).state == TABLE[(state, transition)]
    row = AssetTransition.objects.get(asset=asset)
    assert (row.transition, row.actor) == (transition, "alice")


MACHINE_PAIRS = list(itertools.product(S, sorted(MACHINE_ONLY)))


@pytest.mark.parametrize(("state", "transition"), MACHINE_PAIRS, ids=[f"{s}-{t}" for s, t in MACHINE_PAIRS])
def test_request_transition_refuses_verdict_transitions(asset, state, transition):
    # given an asset in any state, verifying included
    asset = put_in_state(asset, state)

    # when a person asks for a verdict transition
    with pytest.raises(lifecycle.TransitionConflict) as conflict:
        lifecycle.request_transition(asset=asset, transition=transition, actor="alice", reason="looks fine")

    # then it is refused: only an inspection decides it
    assert "inspection" in conflict.value.detail
    assert conflict.value.state == state
    assert sorted(conflict.value.allowed) == MANUAL_FROM[state]
    assert Asset.objects.get(pk=asset.pk).state == state
    assert not AssetTransition.objects.filter(asset=asset).exists()


def test_an_unknown_transition_is_refused_as_unknown_with_what_is_allowed(asset):
    with pytest.raises(lifecycle.TransitionConflict) as conflict:
        lifecycle.request_transition(asset=asset, transition="frobnicate", actor="alice", reason="why not")

    assert conflict.value.detail == "Unknown transition 'frobnicate': it is not a transition of the lifecycle."
    assert "Cannot" not in conflict.value.detail
    assert (conflict.value.state, conflict.value.allowed) == ("active", ["isolate"])
    assert not AssetTransition.objects.filter(asset=asset).exists()


def test_a_refused_transition_names_the_current_state_from_the_database(asset):
    # given a stale copy of an asset that has since been isolated
    stale = Asset.objects.get(pk=asset.pk)
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="smoke")

    # when staff asks, from the stale copy, for a transition only an active asset allows
    with pytest.raises(lifecycle.TransitionConflict) as conflict:
        lifecycle.request_transition(asset=stale, transition=T.ISOLATE, actor="bob", reason="smoke")

    # then the refusal reports the real state and what it allows
    assert conflict.value.state == S.ISOLATED
    assert sorted(conflict.value.allowed) == MANUAL_FROM[S.ISOLATED]
    assert [t.actor for t in AssetTransition.objects.filter(asset=asset)] == ["alice"]


def test_every_step_of_a_full_cycle_is_audited(asset):
    # given an active asset
    # when it goes round the whole lifecycle by hand and by verdict
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="smoke")
    ticket = lifecycle.start_repair(asset_id=asset.id, actor="job:open_repair_ticket")
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced PSU")
    _verdict(Asset.objects.get(pk=asset.pk), T.PASS_VERIFICATION)
    lifecycle.end_probation(asset_id=asset.id, actor="job:end_probation", reason="quiet")

    # then the history, newest first, has one row per step
    rows = list(AssetTransition.objects.filter(asset=asset))
    assert [(r.transition, r.source, r.target) for r in reversed(rows)] == [
        (T.ISOLATE, S.ACTIVE, S.ISOLATED),
        (T.START_REPAIR, S.ISOLATED, S.IN_REPAIR),
        (T.START_VERIFICATION, S.IN_REPAIR, S.VERIFYING),
        (T.PASS_VERIFICATION, S.VERIFYING, S.RETURNED),
        (T.END_PROBATION, S.RETURNED, S.ACTIVE),
    ]
    assert [r.actor for r in reversed(rows)][:3] == ["alice", "job:open_repair_ticket", "bob"]
    assert all(r.reason for r in rows)


def test_state_cannot_be_set_directly(asset):
    # given an asset (the state field is protected)
    # when code tries to set the state by hand
    # then django-fsm refuses
    with pytest.raises(AttributeError):
        asset.state = S.RETURNED
