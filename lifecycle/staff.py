"""Staff (API and console) ask for a transition by name: one entry that finds its step."""
from __future__ import annotations

from assets.choices import Transition
from assets.conflicts import TransitionConflict
from assets.models import Asset
from lifecycle.delivery import inspect_delivery
from lifecycle.isolation import dismiss, isolate
from lifecycle.probation import end_probation
from lifecycle.repair import reinstate, retire, start_repair, start_verification


def request_transition(*, asset: Asset, transition: str, actor: str, reason: str) -> None:
    """A person asks for a transition. The verdict transitions belong to inspections and are refused here."""
    steps = {
        "isolate": isolate,
        "start_repair": start_repair,
        "dismiss": dismiss,
        "start_verification": start_verification,
        "end_probation": end_probation,
        "retire": retire,
        "reinstate": reinstate,
        "inspect_delivery": inspect_delivery,
    }
    step = steps.get(transition)
    if step is None:
        asset.refresh_from_db()
        if transition in (Transition.PASS_VERIFICATION, Transition.FAIL_VERIFICATION, Transition.ACCEPT_DELIVERY,
                          Transition.FAIL_DELIVERY):
            raise TransitionConflict(asset, transition, f"{transition} is decided by an inspection's verdict, "
                                                        "not by hand.")
        raise TransitionConflict(asset, transition, f"{transition} is not a transition of the lifecycle.")
    step(asset_id=asset.id, actor=actor, reason=reason)


