"""OpenStack's Redfish emulator (sushy-tools' sushy-emulator) with its fake driver, started on a free port: one system
per machine, HTTP Basic auth from a bcrypt htpasswd file. `make demo-bmc` and the tests both start it through here."""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt

EMULATOR = Path(sys.executable).with_name("sushy-emulator")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the emulator gets SIGTERM when the process that started it dies, however it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def write_config(directory: Path, *, systems: list[str], username: str, password: str, port: int,
                 power_state: str = "On") -> Path:
    """The emulator's config (a Python file it reads with Flask's from_pyfile) and its htpasswd file."""
    directory.mkdir(parents=True, exist_ok=True)
    htpasswd = directory / "htpasswd"
    # bcrypt is the only digest sushy-emulator accepts; 4 rounds: a demo and test BMC, checked on every request.
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd.write_text(f"{username}:{digest}\n")
    # The fake driver keeps each system's power state in SQLite under the state directory: one per emulator, so
    # two emulators (two test runs, the demo) never share their machines.
    fake_systems = [{"uuid": name, "name": name, "power_state": power_state, "nics": []} for name in systems]
    config = directory / "emulator.conf"
    config.write_text("\n".join([
        "SUSHY_EMULATOR_FAKE_DRIVER = True",
        f"SUSHY_EMULATOR_FAKE_SYSTEMS = {json.dumps(fake_systems)}",
        f"SUSHY_EMULATOR_AUTH_FILE = {str(htpasswd)!r}",
        f"SUSHY_EMULATOR_STATE_DIR = {str(directory / 'state')!r}",
        "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'",
        f"SUSHY_EMULATOR_LISTEN_PORT = {port}",
    ]) + "\n")
    return config


def start(directory: Path, *, systems: list[str], username: str, password: str,
          port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start the emulator; returns the process and its URL once it answers."""
    port = port or free_port()
    config = write_config(directory, systems=systems, username=username, password=password, port=port)
    log = open(directory / "emulator.log", "w")
    process = subprocess.Popen([str(EMULATOR), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "SUSHY_EMULATOR_CONFIG": str(config)},
                               preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/redfish/v1/", timeout=1):
                return process, url
        except (urllib.error.URLError, OSError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"sushy-emulator did not start: {(directory / 'emulator.log').read_text()}")
            time.sleep(0.1)
