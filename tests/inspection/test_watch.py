"""The host agent's watch (inspection/watch.py): recorded real outputs in, one fault per condition out, and the
server holding an agent to its own host."""
import json
from pathlib import Path

import pytest

from assets.models import Fault
from inspection import watch
from inspection.watch import Sources, Watch

RECORDED = Path(__file__).parent / "recorded"
BOOT = "3f2a9c1e"


def recorded(name: str) -> str:
    return (RECORDED / name).read_text()


def smartctl_from(documents: dict[str, str]):
    """A smartctl that answers from recorded `smartctl --json` documents: --scan-open, then -a per device."""
    def smartctl(args):
        if args == ["--scan-open"]:
            return json.loads(recorded("smartctl-scan-open.json"))
        name = documents.get(args[1])
        return json.loads(recorded(name)) if name else None
    return smartctl


def edac_tree(root: Path, *, ue: int = 0, ce: int = 0, dimm_ce: int | None = None) -> str:
    """/sys/devices/system/edac as the skx_edac driver lays it out: mc0 with two DIMMs (dimm0 with its label)."""
    mc = root / "mc0"
    for dimm in ("dimm0", "dimm1"):
        (mc / dimm).mkdir(parents=True, exist_ok=True)
        (mc / dimm / "dimm_ue_count").write_text("0\n")
        (mc / dimm / "dimm_ce_count").write_text("0\n")
        (mc / dimm / "dimm_label").write_text(f"CPU_SrcID#0_MC#0_Chan#{dimm[-1]}_DIMM#0\n")
        (mc / dimm / "size").write_text("32768\n")
    (mc / "dimm0" / "dimm_ue_count").write_text(f"{ue}\n")
    (mc / "dimm0" / "dimm_ce_count").write_text(f"{ce if dimm_ce is None else dimm_ce}\n")
    (mc / "ue_count").write_text(f"{ue}\n")
    (mc / "ce_count").write_text(f"{ce}\n")
    (mc / "mc_name").write_text("Skylake Socket#0 IMC#0\n")
    return str(root / "mc")


def healthy_sources(tmp_path, **changes) -> Sources:
    return Sources(**{"edac_root": changes.pop("edac_root", None) or edac_tree(tmp_path / "edac-healthy"),
                      "smartctl": smartctl_from({"/dev/sda": "smartctl-sata-healthy.json"}),
                      "kernel_log": lambda: recorded("dmesg-healthy.txt"),
                      "mounts": lambda: "/dev/sda2 / ext4 rw,relatime,errors=remount-ro 0 0\n",
                      "fstab": lambda: recorded("etc-fstab.txt"), "boot_id": lambda: BOOT, **changes})


# The sources, one by one, on recorded outputs -------------------------------------------------------------------
def test_a_healthy_host_has_no_condition(tmp_path):
    assert watch.host_conditions(healthy_sources(tmp_path)) == []


def test_smart_of_a_failing_sata_disk():
    found = {c.key: c for c in watch.smart_conditions(json.loads(recorded("smartctl-sata-failing.json")))}
    assert set(found) == {"smart:ZA1FXQ9K:health", "smart:ZA1FXQ9K:5", "smart:ZA1FXQ9K:197", "smart:ZA1FXQ9K:198"}
    assert found["smart:ZA1FXQ9K:health"].severity == "critical"
    assert found["smart:ZA1FXQ9K:5"].summary.startswith("SMART: 3928 reallocated sectors on /dev/sdb")
    assert found["smart:ZA1FXQ9K:197"].severity == "warning"


def test_smart_of_an_nvme_disk_with_media_errors_and_of_a_healthy_one():
    (nvme,) = watch.smart_conditions(json.loads(recorded("smartctl-nvme-media-errors.json")))
    assert (nvme.key, nvme.component, nvme.severity) == ("smart:S64HNE0T512345:media_errors", "disk", "warning")
    assert "17 media errors" in nvme.summary
    assert watch.smart_conditions(json.loads(recorded("smartctl-sata-healthy.json"))) == []


def test_smart_documents_scan_then_read_each_disk():
    documents = watch.smart_documents(smartctl_from({"/dev/sda": "smartctl-sata-healthy.json",
                                                     "/dev/sdb": "smartctl-sata-failing.json",
                                                     "/dev/nvme0": "smartctl-nvme-media-errors.json"}))
    assert [d["device"]["name"] for d in documents] == ["/dev/sda", "/dev/sdb", "/dev/nvme0"]
    assert watch.smart_documents(lambda args: None) == []  # smartmontools not installed


def test_edac_counters_per_dimm(tmp_path):
    root = edac_tree(tmp_path, ue=2, ce=150)
    found = {c.key: c for c in watch.edac_conditions(root, boot_id=BOOT)}
    assert set(found) == {f"edac:mc0/dimm0:ue@{BOOT}", f"edac:mc0/dimm0:ce@{BOOT}"}
    ue = found[f"edac:mc0/dimm0:ue@{BOOT}"]
    assert (ue.component, ue.severity) == ("memory", "critical")
    assert "CPU_SrcID#0_MC#0_Chan#0_DIMM#0" in ue.summary
    assert found[f"edac:mc0/dimm0:ce@{BOOT}"].severity == "warning"
    assert watch.edac_conditions(edac_tree(tmp_path / "few", ce=12), boot_id=BOOT) == []  # below the threshold


def test_edac_counters_per_csrow_and_per_controller(tmp_path):
    # An older driver (e.g. i7core_edac): csrow*/ce_count, ue_count and ch*_dimm_label
    csrow = tmp_path / "old" / "mc1" / "csrow0"
    csrow.mkdir(parents=True)
    (csrow / "ue_count").write_text("1\n")
    (csrow / "ce_count").write_text("0\n")
    (csrow / "ch0_dimm_label").write_text("DIMM_A1\n")
    (csrow.parent / "ue_count").write_text("1\n")
    (csrow.parent / "ce_count").write_text("0\n")
    (found,) = watch.edac_conditions(str(tmp_path / "old" / "mc"), boot_id=BOOT)
    assert found.key == f"edac:mc1/csrow0:ue@{BOOT}" and "DIMM_A1" in found.summary
    # Only the controller's counters
    mc = tmp_path / "bare" / "mc0"
    mc.mkdir(parents=True)
    (mc / "ue_count").write_text("3\n")
    (mc / "ce_count").write_text("0\n")
    (found,) = watch.edac_conditions(str(tmp_path / "bare" / "mc"), boot_id=BOOT)
    assert found.key == f"edac:mc0:ue@{BOOT}"
    assert watch.edac_conditions(str(tmp_path / "none" / "mc"), boot_id=BOOT) == []  # no EDAC driver


def test_kernel_log_machine_checks_and_io_errors_per_disk():
    found = {c.key: c for c in watch.kernel_log_conditions(recorded("dmesg-failing.txt"), boot_id=BOOT)}
    assert set(found) == {f"kernel:mce@{BOOT}", f"kernel:io:sdb@{BOOT}", f"kernel:io:nvme0n1@{BOOT}"}
    mce = found[f"kernel:mce@{BOOT}"]
    assert mce.severity == "warning" and mce.details["count"] == 2
    assert found[f"kernel:io:sdb@{BOOT}"].details["count"] == 3  # I/O error, Buffer I/O error, EXT4-fs error
    assert watch.kernel_log_conditions(recorded("dmesg-healthy.txt"), boot_id=BOOT) == []


@pytest.mark.parametrize("device, disk", [("sdb1", "sdb"), ("sdb", "sdb"), ("nvme0n1p2", "nvme0n1"),
                                          ("nvme0n1", "nvme0n1"), ("mmcblk0p1", "mmcblk0"), ("vda3", "vda")])
def test_whole_disk(device, disk):
    assert watch.whole_disk(device) == disk


def test_read_only_remounts_but_not_filesystems_meant_read_only():
    found = watch.readonly_conditions(recorded("proc-mounts-remounted-ro.txt"), recorded("etc-fstab.txt"),
                                      boot_id=BOOT)
    assert [(c.key, c.severity) for c in found] == [(f"mount:/srv/data:ro@{BOOT}", "critical")]


def test_a_source_that_fails_does_not_blind_the_others(tmp_path):
    def broken():
        raise PermissionError("dmesg: read kernel buffer failed: Operation not permitted")
    sources = healthy_sources(tmp_path, kernel_log=broken,
                              mounts=lambda: recorded("proc-mounts-remounted-ro.txt"))
    assert [c.key for c in watch.host_conditions(sources)] == [f"mount:/srv/data:ro@{BOOT}"]


# The watch: one fault per condition until it clears ---------------------------------------------------------------
class Server:
    """Records what the watch posts and answers as POST faults/ does (a repeated event_id is a duplicate)."""

    def __init__(self):
        self.posts, self.seen = [], set()

    def __call__(self, faults):
        self.posts.append(faults)
        results = []
        for index, fault in enumerate(faults):
            results.append({"index": index, "status": "duplicate" if fault["event_id"] in self.seen else "accepted"})
            self.seen.add(fault["event_id"])
        return 202, {"results": results}


def test_a_condition_is_posted_once_while_it_lasts_across_restarts_and_again_when_it_comes_back(tmp_path):
    edac = tmp_path / "edac"
    sources = healthy_sources(tmp_path, edac_root=edac_tree(edac, ue=1))
    state, server = tmp_path / "watch.json", Server()

    first = Watch(post=server, hostname="node-001", state_file=str(state), sources=sources).tick()
    assert [(f["asset"], f["component"], f["severity"], f["event_id"]) for f in first] == [
        ("node-001", "memory", "critical", f"watch:edac:mc0/dimm0:ue@{BOOT}#1")]
    again = Watch(post=server, hostname="node-001", state_file=str(state), sources=sources)  # the agent restarts
    assert again.tick() == [] and again.tick() == []
    assert len(server.posts) == 1

    edac_tree(edac, ue=0)  # cleared (a reboot, a DIMM replaced) …
    assert again.tick() == []
    edac_tree(edac, ue=4)  # … and back: a new fault
    assert [f["event_id"] for f in again.tick()] == [f"watch:edac:mc0/dimm0:ue@{BOOT}#2"]


def test_without_its_state_file_the_watch_reposts_and_the_server_dedups(tmp_path):
    sources = healthy_sources(tmp_path, smartctl=smartctl_from({"/dev/sdb": "smartctl-sata-failing.json"}))
    server = Server()
    Watch(post=server, hostname="node-001", state_file=str(tmp_path / "a.json"), sources=sources).tick()
    Watch(post=server, hostname="node-001", state_file=str(tmp_path / "b.json"), sources=sources).tick()
    ids = [[f["event_id"] for f in post] for post in server.posts]
    assert len(ids) == 2 and ids[0] == ids[1] and len(server.seen) == 4  # the same four event_ids, twice


def test_a_server_that_is_away_gets_the_faults_at_the_next_interval(tmp_path):
    sources = healthy_sources(tmp_path, mounts=lambda: recorded("proc-mounts-remounted-ro.txt"))
    server = Server()
    answers = iter([(None, {"detail": "Connection refused"}), None])

    def flaky(faults):
        answer = next(answers)
        return answer if answer else server(faults)
    w = Watch(post=flaky, hostname="node-001", state_file=str(tmp_path / "w.json"), sources=sources)
    assert w.tick() == []
    assert [f["event_id"] for f in w.tick()] == [f"watch:mount:/srv/data:ro@{BOOT}#1"]


# Against the real API: the agent's own token, its own host -----------------------------------------------------------
def test_the_watch_posts_through_the_faults_api_with_its_agent_token(api, make_asset, tmp_path, eager_jobs):
    make_asset("node-001")
    make_asset("node-002")
    agent = api("agent", name="node-001")

    def post(faults):
        response = agent.post("/api/v1/faults/", faults, format="json")
        return response.status_code, response.json()

    sources = healthy_sources(tmp_path, smartctl=smartctl_from({"/dev/sdb": "smartctl-sata-failing.json"}),
                              kernel_log=lambda: recorded("dmesg-failing.txt"))
    posted = Watch(post=post, hostname="node-001", state_file=str(tmp_path / "a.json"), sources=sources).tick()
    assert len(posted) == 7  # SMART: health + 3 attributes; kernel: machine checks, sdb, nvme0n1
    assert Fault.objects.filter(asset__hostname="node-001", detector="node-001").count() == 7
    # A restart that lost its state posts the same conditions again: duplicates, stored once.
    Watch(post=post, hostname="node-001", state_file=str(tmp_path / "b.json"), sources=sources).tick()
    assert Fault.objects.count() == 7
    # The same agent pretending to be another host is refused by the server.
    refused = Watch(post=post, hostname="node-002", state_file=str(tmp_path / "c.json"), sources=sources)
    assert refused.tick() == [] and not Fault.objects.filter(asset__hostname="node-002").exists()
