"""The host agent as a detector (`python -m inspection.agent --watch`): every interval it reads this host's own
signs of failing hardware and posts each new condition as one fault about this host (POST faults/, its agent token).

    EDAC        /sys/devices/system/edac/mc*/ (per DIMM or csrow where the driver has them): uncorrected errors →
                critical memory fault; corrected errors past a threshold → warning
    SMART       `smartctl --json -a` per disk, where smartmontools is installed: health failed → critical disk;
                reallocated (5), pending (197), offline-uncorrectable (198) sectors, NVMe media errors → warning
    kernel log  machine-check errors (cpu/memory) and I/O errors (disk, per device), from `dmesg` or /dev/kmsg
    mounts      a disk filesystem remounted read-only (the kernel's errors=remount-ro) → critical disk

A condition is one fault until it clears: its event_id names the condition (the disk's serial, the DIMM, the boot
for what the kernel counts since boot), never the time, so the server stores a re-sent one as a duplicate; a small
state file numbers each occurrence, so one that clears and comes back is a new fault. psutil and the standard
library only, like the rest of the agent. Every source is injectable (tests feed recorded real outputs).
"""
from __future__ import annotations

import glob
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("dam.agent.watch")

EDAC_ROOT = "/sys/devices/system/edac/mc"
# Corrected memory errors are normal in small numbers; this many on one DIMM (or controller) since boot is a
# DIMM on its way out (vendors' RMA thresholds are of this order per day).
CE_THRESHOLD = 100
# Filesystems on disks; a read-only tmpfs, squashfs or overlay is no fault.
DISK_FILESYSTEMS = {"ext2", "ext3", "ext4", "xfs", "btrfs", "f2fs", "jfs", "reiserfs", "zfs", "vfat"}


@dataclass(frozen=True)
class Condition:
    """Something wrong with this host now. `key` names the condition (stable: the same condition, the same key)."""

    key: str
    component: str
    severity: str
    summary: str
    details: dict = field(default_factory=dict, compare=False, hash=False)


# --- EDAC --------------------------------------------------------------------------------------------------------
def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def edac_conditions(root: str = EDAC_ROOT, *, boot_id: str, ce_threshold: int = CE_THRESHOLD) -> list[Condition]:
    """Memory controllers' error counters (since boot): per DIMM (dimm*/dimm_ce_count, the newer drivers) or per
    chip-select row (csrow*/ce_count), else per controller."""
    found = []
    for mc in sorted(glob.glob(f"{root}*")):
        mc_path = Path(mc)
        if not (mc_path / "ce_count").exists() and not (mc_path / "ue_count").exists():
            continue
        units = []  # (unit name, label, ce, ue)
        for dimm in sorted(mc_path.glob("dimm*")) + sorted(mc_path.glob("rank*")):
            units.append((dimm.name, _read_text(dimm / "dimm_label") or dimm.name,
                          _read_int(dimm / "dimm_ce_count"), _read_int(dimm / "dimm_ue_count")))
        if not units:
            for csrow in sorted(mc_path.glob("csrow*")):
                labels = sorted(_read_text(ch) for ch in csrow.glob("ch*_dimm_label") if _read_text(ch))
                units.append((csrow.name, ", ".join(labels) or csrow.name,
                              _read_int(csrow / "ce_count"), _read_int(csrow / "ue_count")))
        if not units or all(ce is None and ue is None for _, _, ce, ue in units):
            units = [(mc_path.name, mc_path.name, _read_int(mc_path / "ce_count"), _read_int(mc_path / "ue_count"))]
        for unit, label, ce, ue in units:
            where = unit if unit == mc_path.name else f"{mc_path.name}/{unit}"
            details = {"source": f"{mc_path}", "unit": where, "label": label, "ce_count": ce, "ue_count": ue}
            if ue:
                found.append(Condition(f"edac:{where}:ue@{boot_id}", "memory", "critical",
                                       f"EDAC: {ue} uncorrected memory errors on {label} ({where})", details))
            if ce is not None and ce >= ce_threshold:
                found.append(Condition(f"edac:{where}:ce@{boot_id}", "memory", "warning",
                                       f"EDAC: {ce} corrected memory errors on {label} ({where}) since boot",
                                       details))
    return found


# --- SMART ---------------------------------------------------------------------------------------------------------
ATA_ATTRIBUTES = {5: "reallocated sectors", 197: "pending sectors", 198: "offline uncorrectable sectors"}


def smart_conditions(document: dict) -> list[Condition]:
    """One disk's `smartctl --json -a` document (smartmontools' JSON schema)."""
    device = (document.get("device") or {}).get("name", "?")
    serial = document.get("serial_number") or device
    model = document.get("model_name") or document.get("model_family") or "disk"
    disk = f"{device} ({model}, serial {serial})"
    base = {"device": device, "model": model, "serial": serial}
    found = []
    status = document.get("smart_status") or {}
    if status.get("passed") is False:
        found.append(Condition(f"smart:{serial}:health", "disk", "critical",
                               f"SMART overall health failed on {disk}", {**base, "smart_status": status}))
    for attribute in (document.get("ata_smart_attributes") or {}).get("table", []):
        name = ATA_ATTRIBUTES.get(attribute.get("id"))
        raw = (attribute.get("raw") or {}).get("value", 0)
        if name and isinstance(raw, int) and raw > 0:
            found.append(Condition(f"smart:{serial}:{attribute['id']}", "disk", "warning",
                                   f"SMART: {raw} {name} on {disk}",
                                   {**base, "attribute": attribute.get("name"), "id": attribute["id"], "raw": raw}))
    nvme = document.get("nvme_smart_health_information_log") or {}
    if nvme.get("media_errors"):
        found.append(Condition(f"smart:{serial}:media_errors", "disk", "warning",
                               f"NVMe: {nvme['media_errors']} media errors on {disk}",
                               {**base, "media_errors": nvme["media_errors"]}))
    if nvme.get("critical_warning"):
        found.append(Condition(f"smart:{serial}:critical_warning", "disk", "critical",
                               f"NVMe critical warning {nvme['critical_warning']:#04x} on {disk}",
                               {**base, "critical_warning": nvme["critical_warning"]}))
    return found


def run_smartctl(args: list[str]) -> dict | None:
    """smartctl's JSON; its exit status is a bit mask that is non-zero for failing disks too, so only JSON counts."""
    binary = shutil.which("smartctl") or ("/usr/sbin/smartctl" if os.path.exists("/usr/sbin/smartctl") else None)
    if not binary:
        return None
    try:
        done = subprocess.run([binary, "--json", *args], capture_output=True, timeout=60, text=True)
        return json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        log.warning("smartctl %s: %s", " ".join(args), exc)
        return None


def smart_documents(smartctl=run_smartctl) -> list[dict]:
    """`smartctl --scan-open`, then `-a` for each disk it finds."""
    scan = smartctl(["--scan-open"])
    documents = []
    for device in (scan or {}).get("devices", []):
        document = smartctl(["-a", device["name"], *(["-d", device["type"]] if device.get("type") else [])])
        if document and (document.get("smart_status") or document.get("ata_smart_attributes")
                         or document.get("nvme_smart_health_information_log")):
            documents.append(document)
    return documents


# --- Kernel log ------------------------------------------------------------------------------------------------------
MCE = re.compile(r"mce: \[Hardware Error\]|Machine check events logged|\bmce\b.*\berrors? (?:logged|detected)"
                 r"|Machine Check Exception", re.IGNORECASE)
EDAC_ERROR = re.compile(r"EDAC (?:MC\d+|\w+): \d+ (?:CE|UE) ")  # "EDAC MC0: 1 CE memory read error on …"
IO_ERROR = re.compile(r"(?:I/O error|critical medium error|Medium Error|Buffer I/O error on dev(?:ice)?)"
                      r",? (?:on )?dev(?:ice)? (?P<dev>[\w.-]+)|EXT4-fs error \(device (?P<fsdev>[\w.-]+)\)"
                      r"|XFS \((?P<xfsdev>[\w.-]+)\): .*(?:I/O error|metadata I/O)", re.IGNORECASE)


def whole_disk(device: str) -> str:
    """sda3 → sda, nvme0n1p2 → nvme0n1, mmcblk0p1 → mmcblk0: the disk, whatever partition the error names."""
    if match := re.fullmatch(r"(nvme\d+n\d+|mmcblk\d+|loop\d+|md\d+|dm-\d+)(p\d+)?", device):
        return match.group(1)
    return re.sub(r"(?<=[a-z])\d+$", "", device)


def kernel_log_conditions(text: str, *, boot_id: str) -> list[Condition]:
    """Machine checks and I/O errors in this boot's kernel log: one condition per kind (and device)."""
    mce_lines, io_lines = [], {}
    for line in text.splitlines():
        if MCE.search(line) or EDAC_ERROR.search(line):
            mce_lines.append(line.strip())
        elif match := IO_ERROR.search(line):
            device = match.group("dev") or match.group("fsdev") or match.group("xfsdev")
            io_lines.setdefault(whole_disk(device), []).append(line.strip())
    found = []
    if mce_lines:
        fatal = any(re.search(r"uncorrect|fatal|panic", line, re.IGNORECASE) for line in mce_lines)
        memory = sum(bool(re.search(r"memory|dram|dimm|EDAC", line, re.IGNORECASE)) for line in mce_lines)
        found.append(Condition(f"kernel:mce@{boot_id}", "memory" if memory * 2 > len(mce_lines) else "cpu",
                               "critical" if fatal else "warning",
                               f"kernel: {len(mce_lines)} machine-check error lines"
                               f"{' (uncorrected)' if fatal else ''} in this boot",
                               {"lines": mce_lines[-10:], "count": len(mce_lines)}))
    for device, lines in sorted(io_lines.items()):
        found.append(Condition(f"kernel:io:{device}@{boot_id}", "disk", "warning",
                               f"kernel: {len(lines)} I/O error lines for {device} in this boot",
                               {"device": device, "lines": lines[-10:], "count": len(lines)}))
    return found


def read_kernel_log() -> str:
    """`dmesg`, else /dev/kmsg read without waiting (dmesg_restrict may forbid the first to a non-root agent)."""
    dmesg = shutil.which("dmesg")
    if dmesg:
        try:
            done = subprocess.run([dmesg], capture_output=True, text=True, timeout=30)
            if done.returncode == 0:
                return done.stdout
        except (OSError, subprocess.TimeoutExpired):
            pass
    lines = []
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        log.warning("kernel log unreadable (dmesg and /dev/kmsg): %s", exc)
        return ""
    try:
        while True:
            try:
                record = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError:  # EPIPE: a record was overwritten meanwhile; read on
                continue
            if not record:
                break
            lines.append(record.decode(errors="replace").split(";", 1)[-1].split("\n", 1)[0])
    finally:
        os.close(fd)
    return "\n".join(lines)


# --- Mounts ----------------------------------------------------------------------------------------------------------
def readonly_conditions(mounts: str, fstab: str = "", *, boot_id: str) -> list[Condition]:
    """Disk filesystems mounted read-only that fstab does not mount read-only: the kernel remounted them after
    errors (errors=remount-ro)."""
    meant_ro = set()
    for line in fstab.splitlines():
        parts = line.split()
        if len(parts) >= 4 and not parts[0].startswith("#") and "ro" in parts[3].split(","):
            meant_ro.add(parts[1])
    found = []
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        device, mountpoint, fstype, options = parts[:4]
        mountpoint = mountpoint.replace("\\040", " ")
        if fstype in DISK_FILESYSTEMS and device.startswith("/dev/") and "ro" in options.split(",") \
                and mountpoint not in meant_ro:
            found.append(Condition(f"mount:{mountpoint}:ro@{boot_id}", "disk", "critical",
                                   f"{mountpoint} ({device}, {fstype}) is mounted read-only",
                                   {"device": device, "mountpoint": mountpoint, "fstype": fstype,
                                    "options": options}))
    return found


# --- The watch --------------------------------------------------------------------------------------------------------
def boot_id() -> str:
    return (_read_text(Path("/proc/sys/kernel/random/boot_id")) or "unknown-boot")[:8]


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


@dataclass
class Sources:
    """Where the watch reads; tests replace any of these."""

    edac_root: str = EDAC_ROOT
    smartctl: object = run_smartctl
    kernel_log: object = read_kernel_log
    mounts: object = lambda: _read_file("/proc/mounts")  # noqa: E731
    fstab: object = lambda: _read_file("/etc/fstab")  # noqa: E731
    boot_id: object = boot_id


def host_conditions(sources: Sources, *, ce_threshold: int = CE_THRESHOLD) -> list[Condition]:
    """Every source read once. A source that fails is logged and skipped: the others still count."""
    boot = sources.boot_id()
    readers = {
        "EDAC": lambda: edac_conditions(sources.edac_root, boot_id=boot, ce_threshold=ce_threshold),
        "SMART": lambda: [c for document in smart_documents(sources.smartctl) for c in smart_conditions(document)],
        "kernel log": lambda: kernel_log_conditions(sources.kernel_log(), boot_id=boot),
        "mounts": lambda: readonly_conditions(sources.mounts(), sources.fstab(), boot_id=boot),
    }
    found = []
    for name, read in readers.items():
        try:
            found += read()
        except Exception as exc:  # one unreadable source must not blind the watch to the others
            log.warning("watch: %s unreadable: %s: %s", name, type(exc).__name__, exc)
    return found


def default_state_file() -> str:
    for directory in ("/var/lib/dam-agent", os.path.expanduser("~/.local/state/dam-agent")):
        try:
            os.makedirs(directory, exist_ok=True)
            if os.access(directory, os.W_OK):
                return os.path.join(directory, "watch.json")
        except OSError:
            continue
    return os.path.join(tempfile.gettempdir(), "dam-agent-watch.json")


class Watch:
    """Posts each condition once while it lasts. The state file keeps, per condition key, the number of its
    current occurrence and whether the server has it, so a restart re-sends nothing new and a condition that
    cleared and came back is a new fault (occurrence n+1)."""

    def __init__(self, *, post, hostname: str, state_file: str | None = None, sources: Sources | None = None,
                 ce_threshold: int = CE_THRESHOLD):
        self.post, self.hostname = post, hostname  # post(list of fault dicts) → (status, body)
        self.state_path = Path(state_file or default_state_file())
        self.sources, self.ce_threshold = sources or Sources(), ce_threshold
        self.state = self._load()

    def _load(self) -> dict:
        try:
            state = json.loads(self.state_path.read_text())
            return state if isinstance(state, dict) and isinstance(state.get("conditions"), dict) else {"conditions": {}}
        except (OSError, ValueError):
            return {"conditions": {}}

    def _save(self) -> None:
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.state, indent=1, sort_keys=True))
            temporary.replace(self.state_path)
        except OSError as exc:  # without it a restart may post an occurrence again: the server dedups it
            log.warning("watch state not saved to %s: %s", self.state_path, exc)

    def event_id(self, key: str) -> str:
        return f"watch:{key}#{self.state['conditions'][key]['n']}"

    def tick(self) -> list[dict]:
        """Read everything once; post what is new. Returns the faults posted (and taken) this time."""
        now = {c.key: c for c in host_conditions(self.sources, ce_threshold=self.ce_threshold)}
        known = self.state["conditions"]
        for key, entry in known.items():
            if key not in now and entry.get("active"):
                entry.update(active=False, posted=False)  # cleared: its next occurrence is a new fault
                log.info("cleared: %s", key)
        to_post = []
        for key, condition in now.items():
            entry = known.setdefault(key, {"n": 0, "active": False, "posted": False})
            if not entry["active"]:
                entry.update(n=entry["n"] + 1, active=True, posted=False)
            if not entry["posted"]:
                to_post.append(condition)
        posted = []
        if to_post:
            faults = [{"asset": self.hostname, "component": c.component, "severity": c.severity,
                       "summary": c.summary[:500], "details": {"source": "dam-agent watch", **c.details},
                       "event_id": self.event_id(c.key)} for c in to_post]
            status, body = self.post(faults)
            results = (body or {}).get("results") if isinstance(body, dict) else None
            if status in (202, 422) and isinstance(results, list):
                for condition, fault, result in zip(to_post, faults, results):
                    if result.get("status") in ("accepted", "duplicate"):
                        known[condition.key]["posted"] = True
                        posted.append(fault)
                        log.info("fault %s (%s): %s", result.get("status"), fault["event_id"], condition.summary)
                    else:
                        log.warning("fault rejected: %s — %s", condition.summary, result.get("reason"))
            else:  # the server is away or refuses: try again next interval
                log.warning("faults not posted (%s): %s", status, body)
        self._save()
        return posted


def faults_poster(server_url: str, token: str, timeout: float = 30):
    """post(faults) → (status, body): POST faults/ with the host's agent token (the server takes faults from an
    agent token about its own host only)."""
    import urllib.error
    import urllib.request
    url = server_url.rstrip("/") + "/api/v1/faults/"
    headers = {"Authorization": f"Token {token}", "Accept": "application/json", "Content-Type": "application/json"}

    def post(faults: list[dict]):
        request = urllib.request.Request(url, data=json.dumps(faults).encode(), method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            try:
                return error.code, json.loads(error.read() or b"null")
            except ValueError:
                return error.code, None
        except OSError as exc:
            return None, {"detail": str(exc)}
    return post
