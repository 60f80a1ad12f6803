"""Verdicts you can trust (issue 12): a failing curve measured under disturbance is `inconclusive`, named in numbers;
facts (inventory, SMART, temperatures, memory errors) fail whatever the disturbance; a performance fail is measured
again and judged on all the runs before it counts; `inconclusive` is asked again after a back-off, then staff get a
note — the machine is never returned nor sent back to repair by noise. And the disturbance meter itself, for real."""
import multiprocessing
import os
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

import lifecycle
from assets.choices import AssetState as S
from assets.models import Asset, Fault
from inspection import measure, services, verdict
from inspection.choices import Purpose, Verdict
from inspection.models import Inspection
from lifecycle.reconcile import reconcile_stuck_assets
from repairs.models import RepairTicket
from tests.api.helpers import API, assert_error, assert_ok
from tests.assets.helpers import healthy_report, history, put_in_state

AGENT = f"{API}/agent/inspections/"
LIMITS = {"others_cpu_pct": 25.0, "steal_pct": 10.0, "others_disk_pct": 25.0, "memory_available_min_pct": 5.0}


@pytest.fixture(autouse=True)
def limits(settings):
    settings.DAM_DISTURBANCE_LIMITS = LIMITS
    settings.DAM_CONFIRM_REPEATS = 2
    settings.DAM_INCONCLUSIVE_RETRIES = 2
    settings.DAM_INCONCLUSIVE_BACKOFF_SECONDS = 600
    settings.DAM_INSPECTION_TIMEOUT_SECONDS = 10 ** 6  # the tests look hours ahead: no inspection expires meanwhile


def figures(others_cpu=2.0, steal=0.0, others_disk=None, memory=80.0, attempts=1) -> dict:
    return {"seconds": 0.5, "others_cpu_pct": others_cpu, "steal_pct": steal, "others_disk_mb_per_s": 0.0,
            "others_disk_pct": others_disk, "memory_available_min_pct": memory, "cpu_mhz_min": 2600.0,
            "cpu_mhz_max": 2600.0, "attempts": attempts}


def report(model, *, cpu=500.0, memory_curve=None, can_confirm=True, **inventory) -> dict:
    """A host of the test model: its CPU at `cpu` MB/s (the test baseline's limit is 0.5), the memory curve
    measured under `memory_curve` disturbance figures (quiet by default)."""
    body = healthy_report(model, **inventory)
    body["measurements"]["cpu.sha256_mb_per_s"] = cpu
    quiet = figures()
    body["disturbance"] = {"limits": LIMITS, "curves": {
        "cpu": quiet, "memory": memory_curve or quiet, "disk.seq_write": quiet, "disk.fsync": quiet}}
    if can_confirm:
        body["can_confirm"] = True
    return body


def judged(asset, body, purpose=Purpose.SCHEDULED) -> Inspection:
    inspection = services.inspection_request(asset=asset, purpose=purpose)
    services.inspection_record(inspection=inspection, report=body, runner="agent:tests")
    return inspection


# Judging ----------------------------------------------------------------------------------------------------------
def test_a_failing_curve_measured_under_disturbance_is_inconclusive_and_named_in_numbers(asset, hardware_model):
    # given a host whose memory curve fails, measured while other processes used 63 % of the CPU (three attempts)
    body = report(hardware_model, memory_curve=figures(others_cpu=63.0, attempts=3))
    body["measurements"]["memory.copy_mb_per_s"] = 0.1

    # then the verdict is inconclusive, naming the disturbance in numbers; no confirmation was asked for
    inspection = judged(asset, body)
    assert inspection.verdict == Verdict.INCONCLUSIVE
    assert inspection.summary.startswith("Inconclusive: the machine was disturbed while measured — other processes "
                                         "used 63% of the CPU during the memory curve (3 attempts).")
    assert "memory copy bandwidth" in inspection.summary and "confirm" not in inspection.raw


def test_a_disturbed_curve_that_passes_is_a_pass_but_teaches_the_baseline_nothing(asset, hardware_model, settings):
    settings.DAM_BASELINE_MIN_SAMPLES = 1
    body = report(hardware_model, memory_curve=figures(others_cpu=80.0, steal=30.0))
    inspection = judged(asset, body)
    assert inspection.verdict == Verdict.PASSED
    assert not hardware_model.baseline_versions.exists()  # a disturbed run is no sample of a healthy machine
    assert judged(asset, report(hardware_model)).verdict == Verdict.PASSED
    assert hardware_model.baseline_versions.get().samples == 1


def test_facts_fail_whatever_the_disturbance(asset, hardware_model):
    body = report(hardware_model, memory_curve=figures(others_cpu=90.0),
                  memory_total_bytes=hardware_model.memory_bytes // 2)
    body["measurements"]["memory.copy_mb_per_s"] = 0.1
    inspection = judged(asset, body)
    assert inspection.verdict == Verdict.FAILED
    assert "inventory.memory_total_bytes" in inspection.checks.filter(passed=False).values_list("name", flat=True)


@pytest.mark.parametrize("name,value,words", [
    ("steal_pct", 40.0, "the hypervisor took 40% of the CPU (steal) during the CPU curve"),
    ("memory_available_min_pct", 2.0, "only 2% of the memory was available during the CPU curve"),
])
def test_each_kind_of_disturbance_is_named(name, value, words):
    found = verdict.disturbed_groups({"curves": {"cpu": {**figures(), name: value}}}, LIMITS)
    assert found == {"cpu": words}
    assert verdict.disturbed_groups({"curves": {"cpu": figures()}}, LIMITS) == {}


def test_a_report_without_disturbance_is_judged_as_before_and_says_so(asset, hardware_model):
    # an older agent: no disturbance block, no confirmation
    body = healthy_report(hardware_model)
    body["measurements"]["cpu.sha256_mb_per_s"] = 0.1
    inspection = judged(asset, body)
    assert inspection.verdict == Verdict.FAILED
    assert inspection.summary.endswith("Not confirmed: the agent cannot measure again. Disturbance not measured "
                                       "(the agent does not report it).")


# Confirm before failing -------------------------------------------------------------------------------------------
def test_a_performance_fail_waits_for_its_confirmation_and_is_judged_on_all_runs(asset, hardware_model):
    # given a first run whose CPU curve fails, measured clean
    inspection = judged(asset, report(hardware_model, cpu=0.1))

    # then it is not finished: the failing group is asked for again, twice
    assert inspection.verdict == Verdict.RUNNING
    assert services.awaiting_confirmation(inspection) == {"groups": ["cpu"], "repeats": 2}
    assert inspection.summary.startswith("The first run failed (CPU SHA-256 throughput ")

    # when both repeats fail too (clean)
    runs = [{"measurements": {"cpu.sha256_mb_per_s": v}, "disturbance": {"curves": {"cpu": figures()}}}
            for v in (0.2, 0.15)]
    services.inspection_confirm(inspection=inspection, runs=runs)

    # then it failed, judged on the median of the three runs, and says so
    assert inspection.verdict == Verdict.FAILED
    check = inspection.checks.get(name="cpu.sha256_mb_per_s")
    assert check.measured == 0.15 and not check.passed
    assert ("Confirmed: the first run failed on the CPU curve; measured 3 times (the first run and 2 confirming), "
            "judged on each point's median.") in inspection.summary
    assert inspection.raw["confirmations"] == runs and inspection.raw["measurements"]["cpu.sha256_mb_per_s"] == 0.1


def test_a_fail_the_repeats_do_not_confirm_is_a_pass(asset, hardware_model):
    inspection = judged(asset, report(hardware_model, cpu=0.1))
    runs = [{"measurements": {"cpu.sha256_mb_per_s": 500.0}, "disturbance": {"curves": {"cpu": figures()}}}] * 2
    services.inspection_confirm(inspection=inspection, runs=runs)
    assert inspection.verdict == Verdict.PASSED
    assert "The first run failed on the CPU curve, not confirmed: measured 3 times" in inspection.summary


def test_a_fail_confirmed_only_under_disturbance_is_inconclusive(asset, hardware_model):
    inspection = judged(asset, report(hardware_model, cpu=0.1))
    runs = [{"measurements": {"cpu.sha256_mb_per_s": 0.1},
             "disturbance": {"curves": {"cpu": figures(others_cpu=70.0, attempts=3)}}}] * 2
    services.inspection_confirm(inspection=inspection, runs=runs)
    assert inspection.verdict == Verdict.INCONCLUSIVE
    assert "other processes used 70% of the CPU during the CPU curve (3 attempts)" in inspection.summary


# The agent's wire -------------------------------------------------------------------------------------------------
@pytest.fixture
def agent(api, asset):
    return api("agent", name="host-001")


def _running(asset) -> Inspection:
    inspection = services.inspection_request(asset=asset, purpose=Purpose.SCHEDULED)
    services.inspection_start(inspection=inspection, runner="agent:host-001")
    return inspection


@pytest.mark.parametrize("disturbance,field", [
    ({"curves": {"cpu": {**figures(), "others_cpu_pct": "lots"}}}, "others_cpu_pct"),
    ({"curves": {"cpu": {**figures(), "others_cpu_pct": -1}}}, "others_cpu_pct"),
    ({"curves": {"cpu": {**figures(), "surprise": 1}}}, "surprise"),
    ({"curves": "cpu"}, "curves"),
    ({"limits": {"others_cpu_pct": "x"}, "curves": {}}, "limits"),
])
def test_a_malformed_disturbance_block_is_400_naming_the_field(agent, asset, hardware_model, disturbance, field):
    inspection = _running(asset)
    body = report(hardware_model)
    body["disturbance"] = disturbance
    answer = assert_error(agent.post(f"{AGENT}{inspection.id}/report/", body, format="json"), 400)
    assert field in str(answer)
    assert Inspection.objects.get(pk=inspection.pk).verdict == Verdict.RUNNING


def test_the_agent_is_asked_to_confirm_and_its_repeats_decide(agent, asset, hardware_model):
    inspection = _running(asset)
    answer = assert_ok(agent.post(f"{AGENT}{inspection.id}/report/", report(hardware_model, cpu=0.1), format="json"))
    assert (answer["verdict"], answer["confirm"]) == ("running", {"groups": ["cpu"], "repeats": 2})
    assert answer["disturbance"]["curves"]["cpu"]["others_cpu_pct"] == 2.0
    # a second report is refused while it waits; a malformed confirmation is 400
    assert_error(agent.post(f"{AGENT}{inspection.id}/report/", report(hardware_model), format="json"), 409)
    assert_error(agent.post(f"{AGENT}{inspection.id}/confirm/", {"runs": [{"measurements": {"x": "y"}}]},
                            format="json"), 400)
    runs = [{"measurements": {"cpu.sha256_mb_per_s": 0.1}, "disturbance": {"curves": {"cpu": figures()}}}] * 2
    answer = assert_ok(agent.post(f"{AGENT}{inspection.id}/confirm/", {"runs": runs}, format="json"))
    assert answer["verdict"] == "failed" and answer["confirm"] is None
    assert "Confirmed:" in answer["summary"]
    assert_error(agent.post(f"{AGENT}{inspection.id}/confirm/", {"runs": runs}, format="json"), 409)


# The lifecycle ----------------------------------------------------------------------------------------------------
def _verifying(asset) -> tuple[Inspection, RepairTicket]:
    put_in_state(asset, S.VERIFYING, changed_at=timezone.now() - timedelta(hours=1))
    return Inspection.objects.get(asset=asset), RepairTicket.objects.get(asset=asset)


def _disturbed_fail(model) -> dict:
    body = report(model, memory_curve=figures(others_cpu=63.0, attempts=3))
    body["measurements"]["memory.copy_mb_per_s"] = 0.1
    return body


def _later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_an_inconclusive_verification_is_asked_again_after_a_back_off_then_staff_get_a_note(
        asset, hardware_model, eager_jobs, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"  # the test plays the agent
    inspection, ticket = _verifying(asset)

    # when the verification is inconclusive
    lifecycle.inspection_finished(inspection_id=inspection.id, report=_disturbed_fail(hardware_model), runner="t")

    # then the machine stays verifying, its ticket neither reopened nor closed, and nothing is asked yet
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING
    ticket.refresh_from_db()
    assert (ticket.reopen_count, ticket.closed_at) == (0, None)
    assert reconcile_stuck_assets()["inspections_requested"] == 0
    # once the back-off passed, a new verification inspection is asked for, on the same ticket
    assert reconcile_stuck_assets(now=_later(601))["inspections_requested"] == 1
    second = Inspection.objects.filter(asset=asset).latest("id")
    assert (second.verdict, second.purpose, second.ticket_id) == (Verdict.PENDING, Purpose.VERIFICATION, ticket.id)

    # when that one is inconclusive too: the back-off doubles
    lifecycle.inspection_finished(inspection_id=second.id, report=_disturbed_fail(hardware_model), runner="t")
    assert reconcile_stuck_assets(now=_later(601))["inspections_requested"] == 0
    assert reconcile_stuck_assets(now=_later(1201))["inspections_requested"] == 1
    third = Inspection.objects.filter(asset=asset).latest("id")

    # when the last try is inconclusive: staff get a note on the ticket, and no more tries come
    lifecycle.inspection_finished(inspection_id=third.id, report=_disturbed_fail(hardware_model), runner="t")
    ticket.refresh_from_db()
    assert f"Inspection #{third.id} was inconclusive 3 times in a row" in ticket.notes
    assert "neither returned nor sent back to repair" in ticket.notes
    assert reconcile_stuck_assets(now=_later(100000))["inspections_requested"] == 0
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING
    assert not [h for h in history(asset) if h[0] in ("pass_verification", "fail_verification")]


def test_a_clean_verdict_after_an_inconclusive_one_acts_as_usual(asset, hardware_model, eager_jobs, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"
    inspection, ticket = _verifying(asset)
    lifecycle.inspection_finished(inspection_id=inspection.id, report=_disturbed_fail(hardware_model), runner="t")
    reconcile_stuck_assets(now=_later(601))
    second = Inspection.objects.filter(asset=asset).latest("id")
    lifecycle.inspection_finished(inspection_id=second.id, report=report(hardware_model), runner="t")
    assert Asset.objects.get(pk=asset.pk).state == S.RETURNED
    ticket.refresh_from_db()
    assert ticket.closed_at is not None


def test_a_confirmed_verification_fail_sends_the_machine_back_to_repair(asset, hardware_model, eager_jobs, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"
    inspection, ticket = _verifying(asset)
    lifecycle.inspection_finished(inspection_id=inspection.id, report=report(hardware_model, cpu=0.1), runner="t")
    assert Asset.objects.get(pk=asset.pk).state == S.VERIFYING  # waits for its confirmation
    runs = [{"measurements": {"cpu.sha256_mb_per_s": 0.1}, "disturbance": {"curves": {"cpu": figures()}}}] * 2
    lifecycle.inspection_confirmed(inspection_id=inspection.id, runs=runs)
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR
    ticket.refresh_from_db()
    assert "Confirmed:" in ticket.notes and ticket.reopen_count == 1


def test_an_inconclusive_delivery_inspection_is_asked_again_and_never_fails_the_delivery(
        asset, hardware_model, eager_jobs, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"
    put_in_state(asset, S.NEW)
    for n in range(3):
        inspection = Inspection.objects.filter(asset=asset).latest("id")
        lifecycle.inspection_finished(inspection_id=inspection.id, report=_disturbed_fail(hardware_model),
                                      runner="t")
        assert Asset.objects.get(pk=asset.pk).state == S.NEW
        assert reconcile_stuck_assets()["inspections_requested"] == 0  # not before its back-off
        assert reconcile_stuck_assets(now=_later(600 * 2 ** n + 1))["inspections_requested"] == (1 if n < 2 else 0)
    last = Inspection.objects.filter(asset=asset, verdict=Verdict.INCONCLUSIVE).latest("id")
    assert "inconclusive 3 times in a row" in last.summary
    assert not [h for h in history(asset) if h[0] in ("fail_delivery", "accept_delivery")]


def test_the_local_runner_confirms_a_real_failing_curve(asset, hardware_model, eager_jobs, settings):
    settings.DAM_DISTURBANCE_LIMITS = {}  # about confirming: however busy this machine is right now
    # given a machine whose real CPU measures far below its baseline (set far above what any CPU does)
    hardware_model.baselines.filter(metric="cpu.sha256_mb_per_s").update(expected=1e9, tolerance_pct=10)
    put_in_state(asset, S.IN_REPAIR)
    ticket = RepairTicket.objects.get(asset=asset)

    # when its ticket is resolved: the worker measures, the server asks for confirmation, the worker measures again
    lifecycle.resolve_ticket(ticket_id=ticket.id, actor="bob", action_taken="replaced CPU")

    # then the verdict is failed, confirmed by two real repeats
    inspection = Inspection.objects.filter(asset=asset).latest("id")
    assert inspection.verdict == Verdict.FAILED, inspection.summary
    assert len(inspection.raw["confirmations"]) == 2
    assert "Confirmed: the first run failed on the CPU curve" in inspection.summary
    assert "measured 3 times (the first run and 2 confirming)" in inspection.summary
    assert Asset.objects.get(pk=asset.pk).state == S.IN_REPAIR


# The meter, for real ----------------------------------------------------------------------------------------------
def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_the_meter_sees_another_process_using_the_cpu(tmp_path):
    # given two processes spinning on the CPU beside the measurer
    cores = os.cpu_count() or 1
    spinners = [multiprocessing.get_context("fork").Process(target=_spin, args=(3.0,)) for _ in range(cores)]
    for p in spinners:
        p.start()
    try:
        time.sleep(0.2)
        # when a curve is measured, with one retry allowed
        points, found = measure.measured_clean(lambda: measure.cpu_curve(0.3, 1), limits=LIMITS, retries=1)
    finally:
        for p in spinners:
            p.terminate()
            p.join()
    # then the meter saw them, measured again, and still names the limit it went past
    assert found["others_cpu_pct"] > LIMITS["others_cpu_pct"], found
    assert found["attempts"] == 2 and "others_cpu_pct" in found["over"]
    assert points["cpu.sha256_mb_per_s[1]"] > 0


def test_a_real_run_ships_its_disturbance_for_every_group(tmp_path):
    body = measure.measure_host(scratch_dir=tmp_path, mounts=[], seconds=0.02, disk_bytes=4 * 1024 * 1024,
                                smart=False, limits={}, retries=0)
    assert set(body["disturbance"]["curves"]) == set(measure.GROUPS)
    for group, found in body["disturbance"]["curves"].items():
        assert {"others_cpu_pct", "steal_pct", "others_disk_mb_per_s", "memory_available_min_pct"} <= set(found)
        assert found["attempts"] == 1 and found["over"] == []
    assert {verdict.group_of(k) for k in body["measurements"]} == set(measure.GROUPS)
    assert body["inventory"]["edac"]["status"] in ("measured", "skipped")


# The console ------------------------------------------------------------------------------------------------------
def test_the_inspection_page_says_why_the_machine_stays_and_shows_the_disturbance(admin_client, asset,
                                                                                  hardware_model, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"
    inspection, _ = _verifying(asset)
    lifecycle.inspection_finished(inspection_id=inspection.id, report=_disturbed_fail(hardware_model), runner="t")
    page = admin_client.get(reverse("admin:inspection_inspection_change", args=[inspection.pk])).content.decode()
    assert "it stays verifying, neither returned nor sent back to repair" in page
    assert "Others&#x27; CPU %" in page and "63.0" in page and "memory ⚠" in page


def test_the_baseline_page_and_api_say_what_each_curve_can_see(admin_client, api, asset, hardware_model, settings):
    settings.DAM_BASELINE_MIN_SAMPLES = 5
    for scale in (0.97, 1.0, 1.03, 0.99, 1.01):
        body = report(hardware_model)
        body["measurements"] = {**body["measurements"], "cpu.sha256_mb_per_s[1]": 1000.0 * scale,
                                "cpu.sha256_mb_per_s[2]": 2000.0 * scale}
        assert judged(asset, body).verdict == Verdict.PASSED
    version = hardware_model.baseline_versions.get()
    page = admin_client.get(reverse("admin:inspection_baselineversion_change", args=[version.pk])).content.decode()
    assert "smallest degradation caught" in page and "CPU SHA-256 throughput" in page
    body = assert_ok(api("viewer").get(f"{API}/baselines/{version.id}/"))
    point = next(p for p in body["points"] if p["metric"] == "cpu.sha256_mb_per_s[1]")
    # a 2 % noise, an 8 % band (min_pct): 8 + 2.326 × noise
    noise = 100 * point["spread"] / point["expected"]
    assert point["detectable_pct"] == pytest.approx(max(8.0, 2.326 * noise) + 2.326 * noise, abs=0.1)
    assert body["detectable_pct"]["cpu.sha256_mb_per_s"] <= point["detectable_pct"]
    assert body["detectable_pct"]["memory.copy_mb_per_s"] is None  # every sample the same: no noise learned


# Scheduled inspections of serving machines ------------------------------------------------------------------------
def test_a_scheduled_inspection_checks_facts_not_speed(asset, hardware_model, eager_jobs):
    # when beat inspects a serving machine (measured for real, by the worker)
    [inspection_id] = lifecycle.scheduled_inspections(sample=1)

    # then it ran the facts profile: inventory, no benchmark, nothing judged against the speed baselines
    inspection = Inspection.objects.get(pk=inspection_id)
    assert (inspection.profile, inspection.verdict) == ("facts", Verdict.PASSED), inspection.summary
    assert inspection.raw["measurements"] == {} and "disturbance" not in inspection.raw
    assert not [c for c in inspection.checks.all() if c.points]
    assert {"inventory.cpu_logical_cores", "inventory.memory_total_bytes", "edac"} <= set(
        inspection.checks.values_list("name", flat=True))
    assert "Facts only" in inspection.summary
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE


def test_a_full_scheduled_check_drains_first_and_a_slow_machine_gets_a_warning_not_an_isolation(
        asset, hardware_model, eager_jobs, settings):
    from integrations.models import Delivery
    settings.DAM_INSPECTION_RUNNER = "agent"
    pool = asset.pool
    pool.scheduled_checks, pool.isolation_action, pool.isolation_target = "full", "command", "/bin/true"
    pool.save()

    # when beat inspects it: drained first, the quick profile
    [inspection_id] = lifecycle.scheduled_inspections(sample=1)
    inspection = Inspection.objects.get(pk=inspection_id)
    assert inspection.profile == "quick"
    assert [d.payload["action"] for d in Delivery.objects.order_by("id")] == ["drain"]

    # and its CPU measures far below the baseline (an older agent: judged at once)
    lifecycle.inspection_finished(inspection_id=inspection_id, report=report(hardware_model, cpu=0.1,
                                                                             can_confirm=False), runner="t")

    # then a warning fault, the machine still serving, and undrained
    fault = Fault.objects.get(asset=asset)
    assert (fault.severity, fault.component) == ("warning", "cpu")
    assert Asset.objects.get(pk=asset.pk).state == S.ACTIVE
    assert [d.payload["action"] for d in Delivery.objects.order_by("id")] == ["drain", "undrain"]


def test_an_inconclusive_scheduled_check_raises_nothing(asset, hardware_model, eager_jobs, settings):
    settings.DAM_INSPECTION_RUNNER = "agent"
    asset.pool.scheduled_checks = "full"
    asset.pool.save()
    [inspection_id] = lifecycle.scheduled_inspections(sample=1)
    lifecycle.inspection_finished(inspection_id=inspection_id, report=_disturbed_fail(hardware_model), runner="t")
    assert Inspection.objects.get(pk=inspection_id).verdict == Verdict.INCONCLUSIVE
    assert not Fault.objects.exists() and Asset.objects.get(pk=asset.pk).state == S.ACTIVE


def test_the_host_agent_measures_again_when_asked_and_the_confirmed_fail_counts(
        transactional_db, live_server, asset, hardware_model, settings, capsys, tmp_path):
    from django.core.management import call_command

    from inspection import agent
    settings.DAM_INSPECTION_RUNNER = "agent"
    settings.DAM_DISTURBANCE_LIMITS = {}  # about the confirmation wire: however busy this machine is right now
    # given a pending inspection of host-001 whose CPU baseline no CPU reaches
    hardware_model.baselines.filter(metric="cpu.sha256_mb_per_s").update(expected=1e9, tolerance_pct=10)
    inspection = services.inspection_request(asset=asset, purpose=Purpose.VERIFICATION)
    call_command("issue_token", "host-001", role="agent")
    token = capsys.readouterr().out.strip()

    # when the real agent takes it over HTTP
    result = agent.run_once(agent.Server(live_server.url, token), "host-001", str(tmp_path))

    # then it measured, was asked to confirm, measured the CPU curve twice more, and the fail counts
    assert result["verdict"] == "failed", result["summary"]
    inspection.refresh_from_db()
    assert [sorted({verdict.group_of(k) for k in run["measurements"]}) for run in inspection.raw["confirmations"]] \
        == [["cpu"], ["cpu"]]
    assert "measured 3 times (the first run and 2 confirming)" in inspection.summary
    assert result["disturbance"]["curves"]["memory"]["attempts"] == 1
