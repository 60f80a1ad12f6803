"""The host agent as the README installs it: only the files the README says to copy, and psutil, on a Python without
Django or anything else of DAM's environment; against a live server. It names a host DAM does not know and exits 3,
and `--once --wait` waits for an inspection assigned after it started."""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.core.management import call_command

from inspection.models import Inspection

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory) -> Path:
    """A directory holding what the README copies onto a host, and the psutil it installs."""
    readme = (ROOT / "README.md").read_text()
    names = re.search(r"scp \S+inspection/\{([^}]+)\}\.py", readme).group(1).split(",")
    host = tmp_path_factory.mktemp("host")
    (host / "inspection").mkdir()
    for name in names:
        shutil.copy(ROOT / "inspection" / f"{name}.py", host / "inspection")
    shutil.copytree(Path(psutil.__file__).parent, host / "psutil")
    return host


def agent(host: Path, *argv: str, timeout: float = 120) -> subprocess.Popen:
    # -S: no site-packages (no Django, no requests…), -E: nothing from the environment; the host directory is the
    # current one, so `-m inspection.agent` finds the copied package and psutil there only.
    return subprocess.Popen([sys.executable, "-S", "-E", "-m", "inspection.agent", *argv], cwd=host,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def token(name: str, capsys) -> str:
    call_command("issue_token", name, role="agent")
    return capsys.readouterr().out.strip()


def test_the_copied_files_are_the_whole_agent_and_its_watch(host_dir):
    done = subprocess.run([sys.executable, "-S", "-E", "-c", "import inspection.agent, inspection.watch, sys; "
                           "assert 'django' not in sys.modules; print('ok')"], cwd=host_dir,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr
    done = subprocess.run([sys.executable, "-S", "-E", "-c", "import django"], cwd=host_dir, capture_output=True,
                          text=True, timeout=60)
    assert "No module named 'django'" in done.stderr  # the host really has nothing else


def test_an_agent_naming_a_host_dam_does_not_know_is_told_so_and_exits_3(host_dir, live_server, asset, capsys):
    process = agent(host_dir, "--server", live_server.url, "--token", token("ghost-001", capsys),
                    "--hostname", "ghost-001", "--once", "--wait", "30")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 3, output
    assert "DAM has no asset named 'ghost-001'" in output and "no pending inspection" not in output


def test_once_wait_takes_an_inspection_assigned_while_it_waits(host_dir, live_server, asset, eager_jobs, capsys,
                                                                tmp_path):
    started = time.monotonic()
    process = agent(host_dir, "--server", live_server.url, "--token", token(asset.hostname, capsys),
                    "--hostname", asset.hostname, "--once", "--wait", "60", "--scratch-dir", str(tmp_path))
    time.sleep(3)  # it has asked and found nothing: without --wait it would have exited
    assert process.poll() is None, process.communicate()[0]
    inspection = Inspection.objects.create(asset=asset, purpose="scheduled", verdict="pending")

    output, _ = process.communicate(timeout=120)

    assert process.returncode == 0, output
    inspection.refresh_from_db()
    assert inspection.runner == f"agent:{asset.hostname}" and inspection.verdict in {"passed", "failed"}, output
    assert time.monotonic() - started < 60


def test_once_without_wait_exits_at_once_when_nothing_waits(host_dir, live_server, asset, capsys):
    process = agent(host_dir, "--server", live_server.url, "--token", token(asset.hostname, capsys),
                    "--hostname", asset.hostname, "--once")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and f"no pending inspection for {asset.hostname}" in output, output
