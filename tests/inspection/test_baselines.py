"""Baseline versions: seeded from a reference run, learned from a model's passing inspections (never the failing
ones), pinned or hand-set by staff, in the admin and the API; every verdict records the version that judged it.
And the verification engine end to end: a repaired machine is checked against a learned baseline from real runs,
and a machine with a throttled CPU fails, its ticket reopened with a note naming the worst points."""
import hashlib

import pytest
from django.urls import reverse

from assets.choices import AssetState as S
from assets.models import Asset
import lifecycle
from inspection import measure, services
from inspection.choices import BaselineKind, Purpose, Verdict
from inspection.models import Baseline, BaselineVersion, Inspection
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok
from tests.assets.helpers import healthy_report

BASELINES = f"{API}/baselines/"
POINT = "disk.seq_write_mb_per_s[1MiB]"


@pytest.fixture(autouse=True)
def small_samples(settings):
    settings.DAM_BASELINE_MIN_SAMPLES = 5
    settings.DAM_BASELINE_RELEARN_EVERY = 3


def curve_report(model, scale: float = 1.0, **inventory) -> dict:
    """A host of `model` measuring a disk curve and a CPU curve, `scale` times the usual speed."""
    report = healthy_report(model, **inventory)
    usual = report["measurements"]
    report["measurements"] = {
        "disk.seq_write_mb_per_s[4KiB]": 80.0 * scale, POINT: 2000.0 * scale,
        "cpu.sha256_mb_per_s[1]": 1600.0 * scale, "cpu.sha256_mb_per_s[2]": 3200.0 * scale,
        # the model's other baselines are measured too, at their usual healthy values: a point not measured fails
        "memory.copy_mb_per_s": usual["memory.copy_mb_per_s"], "disk.fsync_p50_ms": usual["disk.fsync_p50_ms"],
    }
    return report


def record(asset, report) -> Inspection:
    """An inspection of `asset` that the host answered with `report`, judged as the server judges it."""
    inspection = services.inspection_request(asset=asset, purpose=Purpose.SCHEDULED)
    services.inspection_record(inspection=inspection, report=report, runner="agent:tests")
    return inspection


def versions(model) -> list[tuple[int, str]]:
    return list(BaselineVersion.objects.filter(hardware_model=model).order_by("number")
                .values_list("number", "kind"))


# Learning ---------------------------------------------------------------------------------------------------------
def test_a_baseline_is_learned_once_enough_inspections_passed(asset, hardware_model):
    # given four passing inspections: fewer than the five needed
    for scale in (0.98, 1.0, 1.02, 0.99):
        assert record(asset, curve_report(hardware_model, scale)).verdict == Verdict.PASSED
    assert versions(hardware_model) == []

    # when the fifth passes
    fifth = record(asset, curve_report(hardware_model, 1.01))

    # then version 1 is learned from the five: each point's median, with its robust spread and band
    assert versions(hardware_model) == [(1, BaselineKind.LEARNED)]
    version = BaselineVersion.objects.get(hardware_model=hardware_model)
    assert (version.samples, version.learned_up_to) == (5, fifth.id)
    point = version.points.get(metric=POINT)
    assert point.expected == pytest.approx(2000.0)
    assert point.spread == pytest.approx(1.4826 * 20.0)
    assert point.samples == 5 and point.low < 1980.0 and point.high > 2020.0
    # and each curve's whole-curve noise: the runs moved every point together by -2 … +2 %, so the curve moved as much
    curve = version.points.filter(metric__startswith="disk.seq_write")
    assert curve.count() == 2 and all(p.curve_spread_pct == pytest.approx(1.4826) for p in curve)
    assert version.inventory == {}  # healthy_report sends no physical core count


def test_failed_inspections_never_feed_the_baseline(asset, hardware_model):
    # given inspections that failed (half the memory gone, and absurdly slow), among passing ones
    for _ in range(3):
        failed = record(asset, curve_report(hardware_model, 0.01, memory_total_bytes=hardware_model.memory_bytes // 2))
        assert failed.verdict == Verdict.FAILED
    for _ in range(5):
        record(asset, curve_report(hardware_model))

    # then the learned baseline knows only the passing ones
    version = BaselineVersion.objects.get(hardware_model=hardware_model)
    assert version.samples == 5
    assert version.points.get(metric=POINT).expected == pytest.approx(2000.0)


def test_a_new_version_is_learned_every_few_passes_and_each_verdict_records_its_version(asset, hardware_model):
    # given a learned version 1
    for _ in range(5):
        record(asset, curve_report(hardware_model))
    assert versions(hardware_model) == [(1, BaselineKind.LEARNED)]

    # when two more pass: no new version yet; the third: version 2
    judged = [record(asset, curve_report(hardware_model, 1.1)) for _ in range(3)]

    # then
    assert versions(hardware_model) == [(1, "learned"), (2, "learned")]
    assert [i.baseline_version.number for i in judged] == [1, 1, 1]
    assert judged[0].summary.endswith("Judged against test-model baseline v1 (learned from passing inspections). "
                                      "Disturbance not measured (the agent does not report it).")
    later = record(asset, curve_report(hardware_model))
    assert later.baseline_version.number == 2


def test_a_degraded_point_fails_against_the_learned_baseline_naming_it(asset, hardware_model):
    # given a learned baseline
    for scale in (0.98, 1.0, 1.02, 0.99, 1.01):
        record(asset, curve_report(hardware_model, scale))

    # when a host's 1 MiB sequential write is 41 % slow
    report = curve_report(hardware_model)
    report["measurements"][POINT] = 1180.0
    inspection = record(asset, report)

    # then it failed on that point, in plain words, and the failure did not feed the baseline
    assert inspection.verdict == Verdict.FAILED
    assert inspection.summary.startswith("Failed: disk 1 MiB sequential write 41% below the test-model baseline "
                                         "(1,180 MB/s; baseline 2,000, limit ")
    check = inspection.checks.get(name="disk.seq_write_mb_per_s")
    assert not check.passed and check.deviation_pct == pytest.approx(-41.0) and check.sigmas < -10
    assert [p["passed"] for p in check.points] == [True, False]
    assert versions(hardware_model) == [(1, "learned")]


# Pinning and hand-set bands ----------------------------------------------------------------------------------------
def test_a_pinned_version_judges_whatever_is_learned_later(asset, hardware_model):
    # given version 1, pinned by staff
    for _ in range(5):
        record(asset, curve_report(hardware_model))
    v1 = BaselineVersion.objects.get(hardware_model=hardware_model)
    services.baseline_pin(version=v1, actor="alice")

    # when three more passes teach version 2
    for _ in range(3):
        record(asset, curve_report(hardware_model, 1.05))
    assert versions(hardware_model) == [(1, "learned"), (2, "learned")]

    # then version 1 still judges, until unpinned
    assert record(asset, curve_report(hardware_model)).baseline_version == v1
    services.baseline_unpin(hardware_model=hardware_model, actor="alice")
    assert record(asset, curve_report(hardware_model)).baseline_version.number == 2


def test_a_band_set_by_hand_makes_a_version_and_learning_keeps_it(asset, hardware_model):
    # given a learned version 1
    for _ in range(5):
        record(asset, curve_report(hardware_model))

    # when staff set the 1 MiB write band by hand to 2,500 … 3,000 MB/s
    version = services.baseline_set_band(hardware_model=hardware_model, metric=POINT, low=2500.0, high=3000.0,
                                         actor="alice", reason="vendor spec sheet")

    # then version 2 is staff's: that point hand-set, the others as they were
    assert (version.number, version.kind) == (2, BaselineKind.STAFF)
    point = version.points.get(metric=POINT)
    assert (point.low, point.high, point.expected, point.hand_set) == (2500.0, 3000.0, 2750.0, True)
    assert version.points.count() == 6  # the four curve points, memory copy and fsync p50
    # and the usual 2,000 MB/s now fails
    failed = record(asset, curve_report(hardware_model))
    assert failed.verdict == Verdict.FAILED and failed.baseline_version == version
    assert "disk 1 MiB sequential write 27% below the test-model baseline (2,000 MB/s; baseline 2,750, limit 2,500" \
        in failed.summary

    # when more passes teach a new version, the hand-set band stays
    for _ in range(3):
        record(asset, curve_report(hardware_model, 1.3))
    learned = services.baseline_current(hardware_model)
    assert learned.kind == BaselineKind.LEARNED and learned.number == 3
    assert learned.points.get(metric=POINT).low == 2500.0

    # until staff give it back to learning
    released = services.baseline_release_band(hardware_model=hardware_model, metric=POINT, actor="alice",
                                              reason="new firmware")
    assert not released.points.get(metric=POINT).hand_set


@pytest.mark.parametrize(("low", "high", "error"), [(None, None, "low edge"), (3000.0, 2000.0, "below its high"),
                                                    (None, 3000.0, "needs a low edge")])
def test_a_band_that_cannot_be_set(hardware_model, low, high, error):
    with pytest.raises(services.BaselineConflict, match=error):
        services.baseline_set_band(hardware_model=hardware_model, metric=POINT, low=low, high=high,
                                   expected=2000.0, actor="alice", reason="x")


def test_a_reference_run_seeds_a_version_of_every_point_with_the_reference_machine(hardware_model):
    # when a reference run on this machine seeds the baseline
    version = services.baseline_seed_from_here(hardware_model=hardware_model, runs=1)

    # then version 1 holds every curve point measured here, and the machine's physical cores and disks
    assert (version.number, version.kind, version.samples) == (1, BaselineKind.REFERENCE, 0)
    metrics = set(version.points.values_list("metric", flat=True))
    assert {"cpu.sha256_mb_per_s[1]", "memory.copy_mb_per_s[16KiB]", POINT, "disk.rand_read_mb_per_s[4KiB]",
            "disk.fsync_p50_ms", "disk.fsync_p99_ms"} <= metrics
    assert version.points.get(metric="disk.fsync_p99_ms").higher_is_better is False
    assert version.inventory["cpu_physical_cores"] >= 1 and "block_devices" in version.inventory


# API and admin --------------------------------------------------------------------------------------------------
@pytest.fixture
def learned(asset, hardware_model) -> BaselineVersion:
    for _ in range(5):
        record(asset, curve_report(hardware_model))
    return BaselineVersion.objects.get(hardware_model=hardware_model)


def test_everyone_reads_the_versions_with_their_points(api, learned):
    body = assert_ok(api("viewer").get(f"{BASELINES}?hardware_model=test-model"))
    [version] = body["results"]
    assert (version["number"], version["kind"], version["current"], version["pinned"]) == (1, "learned", True, False)
    point = next(p for p in version["points"] if p["metric"] == POINT)
    assert point["expected"] == pytest.approx(2000.0) and point["limit"] == pytest.approx(point["low"])
    assert point["curve_spread_pct"] == 0.0  # five identical passes
    assert assert_ok(api("viewer").get(f"{BASELINES}?hardware_model=other"))["results"] == []


def test_staff_pin_and_unpin_over_the_api(api, learned):
    assert_error(api("viewer").post(f"{BASELINES}{learned.id}/pin/", format="json"), 403)
    body = assert_ok(api("staff", name="alice").post(f"{BASELINES}{learned.id}/pin/", format="json"))
    assert (body["pinned"], body["pinned_by"]) == (True, "alice")

    body = assert_ok(api("staff").post(f"{BASELINES}unpin/", {"hardware_model": "test-model"}, format="json"))
    assert body == {"unpinned": learned.id}
    assert not BaselineVersion.objects.get(pk=learned.pk).pinned


def test_staff_set_a_band_over_the_api(api, learned, asset):
    staff = api("staff", name="alice")
    body = assert_ok(staff.post(f"{BASELINES}set-band/", {"hardware_model": "test-model", "metric": POINT,
                                                          "low": 1900, "reason": "spec sheet"}, format="json"), 201)
    assert (body["number"], body["kind"], body["current"]) == (2, "staff", True)
    assert body["source"] == f"{POINT} band set by alice: spec sheet"

    assert_error(staff.post(f"{BASELINES}set-band/", {"hardware_model": "test-model", "metric": POINT, "low": 3,
                                                      "high": 2, "reason": "x"}, format="json"), 400)
    assert_error(staff.post(f"{BASELINES}set-band/", {"hardware_model": "nope", "metric": POINT, "low": 3,
                                                      "reason": "x"}, format="json"), 400, "hardware_model")
    assert_error(api("viewer").post(f"{BASELINES}set-band/", {}, format="json"), 403)

    # and the inspection API says which version judged
    inspection = record(asset, curve_report(asset.hardware_model))
    body = assert_ok(api("viewer").get(f"{API}/inspections/{inspection.id}/"))
    assert body["baseline_version"] == {"id": body["baseline_version"]["id"], "number": 2, "kind": "staff"}
    disk = next(c for c in body["checks"] if c["name"] == "disk.seq_write_mb_per_s")
    assert [p["label"] for p in disk["points"]] == ["4KiB", "1MiB"]


def test_staff_pin_a_version_and_set_a_band_in_the_admin(admin_client, learned):
    changelist = reverse("admin:inspection_baselineversion_changelist")
    assert "Set a band by hand" in admin_client.get(changelist).content.decode()
    assert admin_client.get(reverse("admin:inspection_baselineversion_change", args=[learned.pk])).status_code == 200

    admin_client.post(changelist, {"action": "pin", "_selected_action": [learned.pk]})
    assert BaselineVersion.objects.get(pk=learned.pk).pinned

    url = reverse("admin:inspection_baselineversion_set_band")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"hardware_model": "test-model", "metric": POINT, "low": "1500",
                                       "reason": "vendor says so"})
    new = BaselineVersion.objects.get(hardware_model=learned.hardware_model, number=2)
    assert response.status_code == 302 and response.url == reverse("admin:inspection_baselineversion_change",
                                                                    args=[new.pk])
    assert new.points.get(metric=POINT).low == 1500.0
    assert services.baseline_current(learned.hardware_model) == learned  # still pinned

    page = admin_client.post(url, {"hardware_model": "test-model", "metric": POINT, "low": "9", "high": "1",
                                   "reason": "oops"}).content.decode()
    assert "must be below its high edge" in page


# The engine end to end, on real runs of this machine -----------------------------------------------------------
class ThrottledHashlib:
    """A CPU at a third of its speed: every hash counted costs three."""

    @staticmethod
    def sha256(data):
        hashlib.sha256(data).digest()
        hashlib.sha256(data).digest()
        return hashlib.sha256(data)


def test_a_repaired_machine_is_verified_against_a_learned_baseline_and_a_throttled_cpu_fails(
        asset, hardware_model, settings, monkeypatch, eager_jobs):
    # given a baseline learned from five real runs of this machine (wide bands but for the CPU, whose
    # measurement is steady on a shared machine)
    settings.DAM_TOLERANCES = {"cpu.": {"sigmas": 5, "min_pct": 30}, "memory.": {"sigmas": 5, "min_pct": 95},
                               "disk.": {"sigmas": 5, "min_pct": 95}, "disk.fsync": {"sigmas": 5, "min_pct": 5000},
                               "disk.tail": {"sigmas": 5, "min_pct": 5000}}
    for _ in range(5):
        record(asset, services.measure_here(hardware_model))
    learned = services.baseline_current(hardware_model)
    assert learned.kind == BaselineKind.LEARNED

    # when a machine is repaired and its ticket resolved, with its CPU throttled to a third
    lifecycle.isolate(asset_id=asset.id, actor="alice", reason="MCE on CPU 1")
    ticket = RepairTicket.objects.get(asset=asset, closed_at__isnull=True)
    monkeypatch.setattr(measure, "hashlib", ThrottledHashlib)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="reseated CPU")

    # then the inspection failed on the CPU curve, judged against the learned version, and the reopened ticket's
    # note names the worst points in plain words
    inspection = Inspection.objects.filter(asset=asset, purpose=Purpose.VERIFICATION).latest("id")
    assert inspection.verdict == Verdict.FAILED, inspection.summary
    assert inspection.baseline_version == learned
    assert [c.name for c in inspection.checks.filter(passed=False)] == ["cpu.sha256_mb_per_s"]
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    ticket.refresh_from_db()
    note = ticket.notes.split(f"Reopened: inspection #{inspection.id} failed. ", 1)[1]
    assert note.startswith("Failed: CPU SHA-256 throughput with ")
    assert "% below the test-model baseline (" in note and "σ)" in note
    assert f"Judged against test-model baseline v{learned.number} (learned from passing inspections)." in note

    # when the CPU is fixed and the ticket resolved again
    monkeypatch.setattr(measure, "hashlib", hashlib)
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced CPU")

    # then it passes against the learned baseline, every curve judged point by point, and it is back on probation
    passed = Inspection.objects.filter(asset=asset).latest("id")
    assert passed.verdict == Verdict.PASSED, passed.summary
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    curves = {c.name: len(c.points) for c in passed.checks.all() if c.points}
    assert set(curves) == {"cpu.sha256_mb_per_s", "memory.copy_mb_per_s", "disk.seq_write_mb_per_s",
                           "disk.seq_read_mb_per_s", "disk.rand_write_mb_per_s", "disk.rand_read_mb_per_s",
                           "disk.fsync_p50_ms", "disk.fsync_p99_ms",
                           *(f"disk.{p}_{t}_ms" for p in ("seq_write", "seq_read", "rand_write", "rand_read")
                             for t in ("p99", "max"))}
    assert curves["disk.seq_write_mb_per_s"] == 5 and curves["disk.seq_write_p99_ms"] == 5 and curves["memory.copy_mb_per_s"] >= 6
    assert not list(settings.DAM_SCRATCH_DIR.glob("dam-check-*"))  # the scratch files are gone
    assert Baseline.objects.filter(version=passed.baseline_version, metric__startswith="cpu.").count() >= 1
