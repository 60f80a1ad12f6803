"""The lifecycle of a machine, top to bottom — the contract's table, one module per step:

    step                 transition            from                  to         triggered by
    1 intake.py          (a fault arrives)                                      a detector; the pool's policy decides
    2 isolation.py       isolate               active, returned      isolated   a fault the policy isolates (job), staff
                         dismiss               isolated              active     staff: a false alarm (ticket cancelled)
    3 repair.py          start_repair          isolated              in_repair  the job that opens the repair ticket
    4 repair.py          start_verification    in_repair             verifying  the ticket is resolved
    5 verification.py    pass_verification     verifying             returned   the inspection passed: on probation
                         fail_verification     verifying             in_repair  it failed: the ticket is reopened
                         (inconclusive)        verifying             verifying  asked again after a back-off; then
                                                                                a note on the ticket for staff
    6 probation.py       end_probation         returned              active     beat: no fault during the window
    7 delivery.py        accept_delivery       new                   active     the delivery inspection passed
                         fail_delivery         new                   new        it did not: the vendor fixes it
                         inspect_delivery      new                   new        staff: inspect again
      repair.py          retire                isolated, in_repair   retired    staff, or too many repairs lately
                         reinstate             retired               isolated   staff

The verdicts of all inspections arrive through verdicts.py; scheduled.py checks serving machines; reconcile.py
finishes what a crash left half done; auto_repair.py carries out the repairs DAM may do itself (the reboot rung
through the machine's BMC, the reimage rung handed to provisioning); staff.py finds the step for a transition
asked for by name; tasks.py holds the Celery jobs.

Every step is one database transaction that locks the asset row, calls the django-fsm transition method (the
guard), saves, writes the audit row, and owes the next job to the outbox, sent once the transaction commits
(transitions.py). Steps run by jobs are safe to run twice: a second run finds the asset moved on and does nothing.

The names below are the lifecycle's entry points, for the API, the console, the commands and the jobs.
"""
from assets.conflicts import RequestConflict, TicketConflict, TransitionConflict  # noqa: F401
from lifecycle.delivery import inspect_delivery, receive_delivery  # noqa: F401
from lifecycle.intake import faults_received, report_faults  # noqa: F401
from lifecycle.isolation import (approve_isolation, dismiss, dismiss_isolation_request, isolate,  # noqa: F401
                                 isolate_for_faults)
from lifecycle.probation import end_probation, end_probation_sweep  # noqa: F401
from lifecycle.reconcile import reconcile_stuck_assets  # noqa: F401
from lifecycle.repair import reinstate, resolve_ticket, retire, start_repair, start_verification  # noqa: F401
from lifecycle.scheduled import scheduled_inspections  # noqa: F401
from lifecycle.staff import request_transition, transition_refused  # noqa: F401
from lifecycle.verdicts import inspection_confirmed, inspection_finished  # noqa: F401
