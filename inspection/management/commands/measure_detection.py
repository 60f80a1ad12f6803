"""Measure the verdict's detection power on this machine: real runs of the checks, a simulated fleet built from
their noise, degradations injected; prints the table (README: "Detection power, measured").

    .venv/bin/python manage.py measure_detection [--runs 40] [--train 20] [--trials 1000] [--save runs.json]

`--measure-only --save loaded.json` takes runs and judges nothing (bench/detection.sh takes them under background
load); `--load quiet.json --loaded loaded.json` then judges each loaded run as a healthy machine against baselines
learned from the quiet ones, with the server's whole verdict (failed, inconclusive or passed).

The last line is `detection@15%: <rate>% false-fail: <rate>%`: the share of 15 % degradations caught (one point
and whole curve together) and the share of healthy runs failed by their first run alone. Above it, the server's
whole verdict (confirmed on repeats, inconclusive when disturbed) and how many runs were disturbed; the table puts
each curve's predicted detectable_pct beside the smallest simulated degradation caught ≥ 99 % of the time.
"""
import json
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inspection import detection, measure
from inspection.choices import Profile
from inspection.services import disturbance_limits, profile_seconds


class Command(BaseCommand):
    help = "Detection rate of 5/10/15/25 % degradations and false-fail rate, from real runs on this machine."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=40, help="real runs of the checks to take (default 40)")
        parser.add_argument("--train", type=int, default=20,
                            help="passing runs each simulated baseline is learned from (default 20)")
        parser.add_argument("--trials", type=int, default=1000, help="simulated machines judged (default 1000)")
        parser.add_argument("--profile", choices=Profile.values, default=Profile.QUICK,
                            help="which profile's length to measure with (default quick)")
        parser.add_argument("--seconds", type=float, default=None,
                            help="each curve's time budget (default: the profile's setting)")
        parser.add_argument("--tolerances", default=None,
                            help='JSON like DAM_TOLERANCES, to try other band widths: {"disk.": {"sigmas": 4, '
                                 '"min_pct": 10, "curve_pct": 8}}')
        parser.add_argument("--save", type=Path, help="also write the runs to this JSON file")
        parser.add_argument("--load", type=Path, help="judge runs saved earlier instead of measuring")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--measure-only", action="store_true",
                            help="take the runs and --save them, judge nothing (e.g. under background load)")
        parser.add_argument("--loaded", type=Path,
                            help="runs saved under background load: judge each as a healthy machine against "
                                 "baselines learned from the main (quiet) runs, with the server's whole verdict")

    def handle(self, *args, runs, train, trials, profile, seconds, tolerances, save, load, seed, measure_only,
               loaded, **options):
        tolerances = json.loads(tolerances) if tolerances else settings.DAM_TOLERANCES
        if load:
            taken = json.loads(load.read_text())
            self.stderr.write(f"{len(taken)} runs loaded from {load}")
        else:
            taken = self.take_runs(runs, profile, seconds if seconds is not None else profile_seconds(profile))
        if save:
            save.write_text(json.dumps(taken))
        if measure_only:
            return
        try:
            result = detection.simulate(taken, train=train, trials=trials, tolerances=tolerances, seed=seed,
                                        limits=disturbance_limits(), confirm_repeats=settings.DAM_CONFIRM_REPEATS)
        except ValueError as exc:
            raise CommandError(str(exc)) from None

        self.stdout.write(f"{result.runs} real runs; each of {result.trials} simulated machines judged against a "
                          f"baseline learned from {result.train} others.\n")
        for line in detection.table(result):
            self.stdout.write(line)
        self.stdout.write("")
        for mode in detection.MODES:
            rates = ", ".join(f"{m}%: {result.detected[(mode, m)].rate:.1f}%" for m in detection.MAGNITUDES)
            self.stdout.write(f"detection, {mode}: {rates}")
        for line in detection.verdict_lines(result):
            self.stdout.write(line)
        for line in detection.family_lines(result):
            self.stdout.write(line)
        if loaded:
            self.under_load(taken, json.loads(loaded.read_text()), train=train, trials=trials,
                            tolerances=tolerances, seed=seed)
        self.stdout.write(f"detection@15%: {result.detection_at(15):.1f}% false-fail: {result.false_fail.rate:.1f}%")

    def under_load(self, quiet, loaded, **options):
        try:
            found = detection.judge_under_load(quiet, loaded, limits=disturbance_limits(),
                                               confirm_repeats=settings.DAM_CONFIRM_REPEATS, **options)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        families = ", ".join(f"{f} {t.rate:.1f}%" for f, t in found.failed_by_family.items())
        self.stdout.write(f"under load: {found.runs} runs, {found.disturbed_runs} disturbed beyond the limits; "
                          f"{found.trials} healthy machines judged against quiet baselines: "
                          f"passed {found.passed.rate:.1f}%, inconclusive {found.inconclusive.rate:.1f}%, "
                          f"failed {found.failed.rate:.1f}% (by family: {families}); "
                          f"first run alone failed {found.first_run_failed.rate:.1f}%")

    def take_runs(self, runs: int, profile: str, seconds: float) -> list[dict]:
        scratch = Path(settings.DAM_SCRATCH_DIR) / "detection"
        taken = []
        started = time.monotonic()
        for n in range(1, runs + 1):
            report = measure.measure_host(scratch_dir=scratch, mounts=[], seconds=seconds,
                                          disk_bytes=settings.DAM_DISK_SCRATCH_BYTES, profile=profile, smart=False,
                                          limits=disturbance_limits(), retries=settings.DAM_DISTURBANCE_RETRIES)
            taken.append({"measurements": report["measurements"], "disturbance": report["disturbance"]})
            elapsed = time.monotonic() - started
            self.stderr.write(f"\rrun {n}/{runs} ({profile}, {seconds:g} s per curve): {elapsed:.0f} s",
                              ending="")
            sys.stderr.flush()
        self.stderr.write("")
        return taken
