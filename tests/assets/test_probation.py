"""The end_probation beat job: a returned machine is active again only once its pool's probation window passed."""
from datetime import timedelta

from django.utils import timezone

from assets.choices import AssetState as S
from assets.models import Asset, AssetTransition, Pool
import lifecycle
from lifecycle import tasks
from tests.assets.helpers import put_in_state


def test_probation_ends_only_after_the_pools_window(asset):
    # given an asset returned now, in a pool with a 24 h probation
    returned_at = timezone.now()
    put_in_state(asset, S.RETURNED, changed_at=returned_at)

    # when the sweep runs just before the window ends
    # then it stays on probation
    assert lifecycle.end_probation_sweep(now=returned_at + timedelta(hours=23, minutes=59)) == 0
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED

    # when it runs after the window
    assert lifecycle.end_probation_sweep(now=returned_at + timedelta(hours=24, seconds=1)) == 1

    # then it is active again, audited as the job's doing
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE
    row = AssetTransition.objects.get(asset=asset)
    assert (row.transition, row.source, row.target, row.actor) == ("end_probation", S.RETURNED, S.ACTIVE,
                                                                   "job:end_probation")
    assert "24 h" in row.reason


def test_each_pool_has_its_own_window(make_asset, hardware_model):
    # given two assets returned at the same time, one in a pool with a 1 h probation
    returned_at = timezone.now()
    quick_pool = Pool.objects.create(name="quick", probation_hours=1)
    quick = Asset.objects.create(hostname="host-quick", hardware_model=hardware_model, pool=quick_pool)
    slow = make_asset("host-slow")
    for asset in (quick, slow):
        put_in_state(asset, S.RETURNED, changed_at=returned_at)

    # when the sweep runs two hours later
    ended = lifecycle.end_probation_sweep(now=returned_at + timedelta(hours=2))

    # then only the short probation is over
    assert ended == 1
    assert Asset.objects.get(pk=quick.pk).state == S.ACTIVE
    assert Asset.objects.get(pk=slow.pk).state == S.RETURNED


def test_the_sweep_leaves_other_states_alone(make_asset):
    # given assets in every state but returned, all changed long ago
    long_ago = timezone.now() - timedelta(days=30)
    for n, state in enumerate([S.ACTIVE, S.ISOLATED, S.IN_REPAIR, S.VERIFYING]):
        put_in_state(make_asset(f"host-{n}"), state, changed_at=long_ago)

    # when the sweep runs (as the beat job)
    ended = tasks.end_probation_sweep()

    # then nothing moved
    assert ended == 0
    assert not AssetTransition.objects.exists()


def test_a_fault_during_probation_means_no_end_of_probation(asset):
    # given a returned asset that a warning isolated again during its probation
    returned_at = timezone.now() - timedelta(hours=30)
    put_in_state(asset, S.RETURNED, changed_at=returned_at)
    lifecycle.isolate(asset_id=asset.id, actor="job:isolate_asset", reason="warning disk fault")

    # when the sweep runs after the window
    ended = lifecycle.end_probation_sweep()

    # then it does not come back
    assert ended == 0
    assert Asset.objects.get(pk=asset.pk).state == S.ISOLATED
