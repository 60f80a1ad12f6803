"""Staff (API and console) ask for a transition by name: one entry that finds its step, and one wording of why a
name is refused (unknown, decided by an inspection, or not allowed from the machine's state)."""
from __future__ import annotations

from assets.choices import Transition
from assets.conflicts import TransitionConflict
from assets.models import Asset
from lifecycle.delivery import inspect_delivery
from lifecycle.isolation import dismiss, isolate
from lifecycle.probation import end_probation
from lifecycle.repair import reinstate, retire, start_repair, start_verification

STEPS = {
    Transition.ISOLATE: isolate,
    Transition.START_REPAIR: start_repair,
    Transition.DISMISS: dismiss,
    Transition.START_VERIFICATION: start_verification,
    Transition.END_PROBATION: end_probation,
    Transition.RETIRE: retire,
    Transition.REINSTATE: reinstate,
    Transition.INSPECT_DELIVERY: inspect_delivery,
}
# The verdict transitions belong to inspections.
DECIDED_BY_INSPECTIONS = (Transition.PASS_VERIFICATION, Transition.FAIL_VERIFICATION, Transition.ACCEPT_DELIVERY,
                          Transition.FAIL_DELIVERY)


def transition_refused(asset: Asset, transition: str) -> TransitionConflict | None:
    """Why a person may not ask for `transition` on the asset as it is now (None: they may). A name the lifecycle
    does not have is called unknown, never answered as if it were a real transition refused by the state."""
    if transition not in Transition.values:
        return TransitionConflict(asset, transition, f"Unknown transition {transition!r}: it is not a transition of "
                                                     "the lifecycle.")
    if transition in DECIDED_BY_INSPECTIONS:
        return TransitionConflict(asset, transition, f"{transition} is decided by an inspection's verdict, "
                                                     "not by hand.")
    if transition not in asset.manual_transitions():
        return TransitionConflict(asset, transition)
    return None


def request_transition(*, asset: Asset, transition: str, actor: str, reason: str) -> None:
    """A person asks for a transition. The step itself checks the state again on the locked row."""
    step = STEPS.get(transition)
    if step is None:
        asset.refresh_from_db()
        raise transition_refused(asset, transition)
    step(asset_id=asset.id, actor=actor, reason=reason)
