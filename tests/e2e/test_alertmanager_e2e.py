"""Debian's real Alertmanager delivering to a live DAM: alerts posted to Alertmanager's API v2 arrive through its
webhook_configs receiver (authorization: Token, as in the README) and go through DAM's fault intake, with a real
worker isolating the machine."""
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from assets.models import Asset, Fault
from tests.e2e.conftest import ROOT, issue_token, wait_for_state
from tests.e2e.servers import free_port, get_json, need, post_json, running, scrape_value

pytestmark = pytest.mark.e2e



def alertmanager_config(url: str, token: str) -> str:
    """The README's alertmanager.yml (docs/prometheus/alertmanager.yml) pointed at this DAM, with its timings cut
    to a test's: group_wait 100 ms, group_interval 500 ms, and a repeat_interval of 2 s, so that Alertmanager
    re-sends the firing alerts soon (DAM must take them as duplicates)."""
    config = (ROOT / "docs" / "prometheus" / "alertmanager.yml").read_text()
    for old, new in (("http://127.0.0.1:8000", url), ("PASTE-THE-DETECTOR-TOKEN-HERE", token),
                     ("group_wait: 10s", "group_wait: 100ms"), ("group_interval: 1m", "group_interval: 500ms"),
                     ("repeat_interval: 4h", "repeat_interval: 2s")):
        assert old in config, f"{old!r} is no longer in docs/prometheus/alertmanager.yml"
        config = config.replace(old, new)
    return config


def now(offset_seconds: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=offset_seconds)).isoformat().replace("+00:00", "Z")


def metrics_of(base: str) -> str:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
        return response.read().decode()


def wait_until(what: str, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)
    return value


def test_alertmanager_delivers_alerts_into_the_fault_intake(worker, live_server, http, make_asset, tmp_path, capsys):
    binary = need("prometheus-alertmanager")
    sick, recovering = make_asset("node-001"), make_asset("node-002")
    token = issue_token("alertmanager", "detector", capsys)
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(live_server.url, token))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'am-data'}",
               f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=debug"]
    staff = http("staff")
    with running(command, f"{base}/-/ready", tmp_path / "alertmanager.log"):
        # A critical memory alert on node-001, as an EDAC rule over node_exporter fires it.
        critical = {"labels": {"alertname": "NodeMemoryUncorrectableErrors", "instance": "node-001:9100",
                               "job": "node", "severity": "critical", "component": "memory"},
                    "annotations": {"summary": "Uncorrectable ECC errors on node-001"},
                    "startsAt": now(-5), "generatorURL": "http://prometheus.example:9090/graph"}
        warning = {"labels": {"alertname": "NodeDiskTemperatureHigh", "instance": "node-002:9100", "job": "node",
                              "severity": "warning", "component": "thermal"},
                   "annotations": {"summary": "Disk sda at 61 °C"}, "startsAt": now(-5)}
        ghost = {"labels": {"alertname": "NodeDiskErrors", "instance": "ghost-999:9100", "severity": "critical",
                            "component": "disk"}, "startsAt": now(-5)}
        assert post_json(f"{base}/api/v2/alerts", [critical, warning, ghost]) == 200

        # The machine is isolated (and ticketed) by the real worker.
        wait_for_state(staff, "node-001", "isolated", "in_repair")
        fault = Fault.objects.get(asset=sick)
        assert (fault.detector, fault.component, fault.severity) == ("alertmanager", "memory", "critical")
        assert fault.summary == "Uncorrectable ECC errors on node-001"
        assert fault.details["labels"]["alertname"] == "NodeMemoryUncorrectableErrors"

        # Alertmanager re-sends the firing alerts (repeat_interval): each one a duplicate, stored once; the unknown
        # host is rejected in a 200, so Alertmanager never counts a failed notification nor retries it.
        wait_until("Alertmanager to re-send the alerts", lambda: scrape_value(
            metrics_of(base), "alertmanager_notifications_total", integration="webhook") >= 6)
        text = metrics_of(base)
        assert scrape_value(text, "alertmanager_notifications_failed_total", integration="webhook") == 0, text
        assert Fault.objects.filter(asset=sick).count() == 1
        assert Fault.objects.filter(asset=recovering).count() == 1
        assert not Fault.objects.filter(summary__icontains="ghost").exists()
        assert Fault.objects.count() == 2

        # The warning resolves: stored as an info fault, the machine stays in service.
        assert post_json(f"{base}/api/v2/alerts", [{**warning, "endsAt": now()}]) == 200
        resolved = wait_until("the resolved alert", lambda: Fault.objects.filter(
            asset=recovering, severity="info").first())
        assert resolved.summary == "resolved: Disk sda at 61 °C" and resolved.details["status"] == "resolved"
        time.sleep(1.5)  # the worker has had time to act on it, had it asked for anything
        assert Asset.objects.get(pk=recovering.pk).state == "active"
        alerts = get_json(f"{base}/api/v2/alerts?silenced=false&inhibited=false")
        assert {a["labels"]["instance"] for a in alerts} == {"node-001:9100", "ghost-999:9100"}
