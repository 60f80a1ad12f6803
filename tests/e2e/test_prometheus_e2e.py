"""Debian's real Prometheus scraping a live DAM's /metrics with a token, as the README configures it; and the
shipped Prometheus and Alertmanager files checked by their own tools."""
import json
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, issue_token
from tests.e2e.servers import free_port, get_json, need, running

pytestmark = pytest.mark.e2e
DOCS = ROOT / "docs" / "prometheus"


def scraped_target(base: str, health: str) -> dict:
    """Prometheus' one target, once a scrape has left it `health` (or the last state seen after 60 s: a scrape
    that timed out on a busy machine is tried again at the next interval)."""
    deadline = time.monotonic() + 60
    while True:
        targets = get_json(f"{base}/api/v1/targets")["data"]["activeTargets"]
        if targets and (targets[0]["health"] == health or time.monotonic() > deadline):
            return targets[0]
        time.sleep(0.3)


# Scraped every 2 s, each scrape given the whole 2 s (Prometheus caps the timeout at the interval).
FAST = "global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n"


def test_prometheus_scrapes_dam(transactional_db, live_server, make_asset, tmp_path, capsys):
    binary = need("prometheus")
    make_asset("node-001")
    make_asset("node-002")
    token = issue_token("prometheus", "viewer", capsys)
    target = live_server.url.removeprefix("http://")
    scrape = (DOCS / "prometheus-scrape.yml").read_text()  # the README's scrape config, pointed at this DAM
    config = tmp_path / "prometheus.yml"
    config.write_text(FAST + scrape.replace("PASTE-THE-VIEWER-TOKEN-HERE", token)
                      .replace("127.0.0.1:8000", target).replace("    scrape_interval: 30s\n", ""))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
               f"--web.listen-address=127.0.0.1:{port}"]
    with running(command, f"{base}/-/ready", tmp_path / "prometheus.log"):
        target = scraped_target(base, "up")
        assert (target["health"], target["lastError"]) == ("up", ""), target
        query = urllib.parse.quote('dam_assets{state="active", pool="batch"}')
        result = get_json(f"{base}/api/v1/query?query={query}")["data"]["result"]
        assert [r["value"][1] for r in result] == ["2"], result
        histogram = get_json(f"{base}/api/v1/query?query=dam_fault_to_isolation_seconds_count")["data"]["result"]
        assert histogram and histogram[0]["value"][1] == "0"
        # Every query of the shipped Grafana dashboard is PromQL that this Prometheus takes, over DAM's series.
        dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                expr = target["expr"].replace("$pool", ".*")
                answer = get_json(f"{base}/api/v1/query?query={urllib.parse.quote(expr)}")
                assert answer["status"] == "success", (panel["title"], expr, answer)


def test_a_wrong_token_is_a_target_down(transactional_db, live_server, tmp_path):
    binary = need("prometheus")
    config = tmp_path / "prometheus.yml"
    config.write_text(FAST + (DOCS / "prometheus-scrape.yml").read_text()
                      .replace("127.0.0.1:8000", live_server.url.removeprefix("http://"))
                      .replace("    scrape_interval: 30s\n", ""))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{port}"], f"{base}/-/ready", tmp_path / "prometheus.log"):
        target = scraped_target(base, "down")
        assert target["health"] == "down" and "401" in target["lastError"], target


@pytest.mark.one_backend  # files checked by promtool and amtool: the same on both runs
def test_the_shipped_alert_rules_and_configs_are_valid():
    promtool = need("promtool")
    for command in ([promtool, "check", "rules", str(DOCS / "dam-alerts.yml")],
                    [promtool, "check", "config", str(DOCS / "prometheus-scrape.yml")]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr
    if amtool := shutil.which("amtool"):
        done = subprocess.run([amtool, "check-config", str(DOCS / "alertmanager.yml")], capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_readme_shows_the_shipped_files_as_they_are():
    readme = (ROOT / "README.md").read_text()
    for name in ("alertmanager.yml", "dam-alerts.yml", "prometheus-scrape.yml"):
        assert (DOCS / name).read_text().strip() in readme, f"README's {name} differs from docs/prometheus/{name}"


def test_the_grafana_dashboard_queries_only_metrics_dam_serves():
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    served = set(Path(ROOT / "dam" / "metrics.py").read_text().split('"'))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert exprs
    for expr in exprs:
        names = {word for word in __import__("re").findall(r"dam_[a-z_]+", expr)}
        for name in names:
            base = name.removesuffix("_total").removesuffix("_bucket").removesuffix("_sum").removesuffix("_count")
            assert base in served, f"{name} in {expr!r} is not a DAM metric"
