"""integrations/alertmanager/: Alertmanager's webhook payload, each alert one fault through the fault intake."""
import pytest

from assets.models import Asset, Fault
from integrations.alertmanager import alert_to_fault, strip_port
from tests.api.helpers import API, assert_error, assert_ok

RECEIVER = f"{API}/integrations/alertmanager/"


def alert(status="firing", fingerprint="a1b2c3d4e5f60718", starts_at="2026-12-03T09:30:00.123456789Z", **labels):
    labels = {"alertname": "NodeEdacUncorrectableErrors", "instance": "host-001:9100", "job": "node",
              "severity": "critical", "component": "memory", **labels}
    return {
        "status": status, "labels": labels,
        "annotations": {"summary": "Uncorrectable memory errors on controller mc0",
                        "description": "node_edac_uncorrectable_errors_total rose by 1"},
        "startsAt": starts_at,
        "endsAt": "2026-12-03T09:35:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=increase%28node_edac%29",
        "fingerprint": fingerprint,
    }


def webhook(*alerts):
    """The payload as Alertmanager 0.25 sends it (notify/webhook/webhook.go: Message)."""
    return {"receiver": "dam", "status": alerts[0]["status"] if alerts else "firing", "alerts": list(alerts),
            "groupLabels": {"alertname": "NodeEdacUncorrectableErrors"}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093", "version": "4", "groupKey": "{}:{alertname=\"x\"}",
            "truncatedAlerts": 0}


# The mapping (the contract's table) ---------------------------------------------------------------------------
@pytest.mark.parametrize("instance, host", [("node-7:9100", "node-7"), ("node-7", "node-7"),
                                            ("[2001:db8::7]:9100", "2001:db8::7"), ("10.0.0.7:9100", "10.0.0.7")])
def test_instance_loses_its_port(instance, host):
    assert strip_port(instance) == host


@pytest.mark.parametrize("labels, host", [({"hostname": "h1", "instance": "h2:9100", "node": "h3"}, "h1"),
                                          ({"instance": "h2:9100", "node": "h3"}, "h2"), ({"node": "h3"}, "h3")])
def test_the_machine_is_hostname_else_instance_else_node(labels, host):
    a = alert()
    a["labels"] = {"alertname": "X", **labels}
    assert alert_to_fault(a)["asset"] == host


@pytest.mark.parametrize("label, severity", [("critical", "critical"), ("page", "critical"), ("warning", "warning"),
                                             ("warn", "warning"), ("info", "info"), ("none", "info"),
                                             ("P3", "warning"), (None, "warning")])
def test_severity_labels(label, severity):
    a = alert()
    if label is None:
        del a["labels"]["severity"]
    else:
        a["labels"]["severity"] = label
    assert alert_to_fault(a)["severity"] == severity


def test_fields_of_a_fault():
    fault = alert_to_fault(alert(component="fan"))
    assert fault["component"] == "other"  # not one of DAM's components
    assert fault["summary"] == "Uncorrectable memory errors on controller mc0"
    assert fault["event_id"] == "a1b2c3d4e5f60718:2026-12-03T09:30:00.123456789Z"
    assert fault["details"]["labels"]["alertname"] == "NodeEdacUncorrectableErrors"
    assert fault["details"]["generatorURL"].startswith("http://prometheus:9090/")
    no_annotations = alert()
    no_annotations["annotations"] = {}
    assert alert_to_fault(no_annotations)["summary"] == "NodeEdacUncorrectableErrors"
    resolved = alert_to_fault(alert(status="resolved"))
    assert (resolved["severity"], resolved["observed_at"]) == ("info", "2026-12-03T09:35:00Z")
    assert resolved["event_id"].endswith(":resolved")


# The endpoint ---------------------------------------------------------------------------------------------------
def test_an_alert_is_a_fault_of_the_tokens_detector(api, asset, eager_jobs):
    body = assert_ok(api("detector", name="alertmanager").post(RECEIVER, webhook(alert()), format="json"), 200)
    stored = Fault.objects.get()
    assert body == {"accepted": 1, "duplicates": 0, "rejected": 0,
                    "results": [{"index": 0, "status": "accepted", "id": stored.id, "reason": None}]}
    assert (stored.asset.hostname, stored.component, stored.severity, stored.detector) == (
        "host-001", "memory", "critical", "alertmanager")
    assert stored.observed_at.isoformat().startswith("2026-12-03T09:30:00.123456")
    # The same fault intake as POST faults/: the pool's policy isolates on a critical fault.
    assert Asset.objects.get().state in ("isolated", "in_repair")


def test_a_resent_alert_is_a_duplicate_and_a_resolved_one_isolates_nothing(api, make_asset, eager_jobs):
    make_asset("host-001")
    make_asset("host-002")
    detector = api("detector", name="alertmanager")
    assert_ok(detector.post(RECEIVER, webhook(alert()), format="json"), 200)
    again = assert_ok(detector.post(RECEIVER, webhook(alert()), format="json"), 200)
    assert (again["accepted"], again["duplicates"]) == (0, 1)

    resolved = assert_ok(detector.post(RECEIVER, webhook(alert(status="resolved", instance="host-002:9100")),
                                       format="json"), 200)
    assert resolved["accepted"] == 1
    assert Fault.objects.get(asset__hostname="host-002").severity == "info"
    assert Asset.objects.get(hostname="host-002").state == "active"


def test_unknown_and_unnamed_hosts_are_rejected_in_a_200(api, asset):
    nameless = alert(fingerprint="ffff000011112222")
    nameless["labels"] = {"alertname": "Watchdog", "severity": "none"}
    body = assert_ok(api("detector").post(RECEIVER, webhook(alert(instance="ghost:9100"), nameless, alert(
        fingerprint="0123456789abcdef", severity="warning")), format="json"), 200)
    assert (body["accepted"], body["rejected"]) == (1, 2)
    assert "unknown hostname 'ghost'" in body["results"][0]["reason"]
    assert "no 'hostname', 'instance' or 'node' label" in body["results"][1]["reason"]
    assert body["results"][2]["status"] == "accepted"


@pytest.mark.parametrize("payload, field", [
    ([], None),
    ({"alerts": []}, "version"),
    ({"version": "3", "alerts": []}, "version"),
    ({"version": "4"}, "alerts"),
    ({"version": "4", "alerts": [{"status": "firing"}]}, "alerts"),
    ({"asset": "host-001", "component": "disk", "severity": "critical", "summary": "x"}, "version"),
])
def test_a_payload_that_is_not_an_alertmanager_webhook_is_400(api, asset, payload, field):
    body = assert_error(api("detector").post(RECEIVER, payload, format="json"), 400, *([field] if field else []))
    assert "Alertmanager" in body["detail"]
    assert not Fault.objects.exists()


def test_the_400_says_where(api, asset):
    broken = alert()
    del broken["labels"]
    body = assert_error(api("detector").post(RECEIVER, webhook(alert(), broken), format="json"), 400, "alerts")
    assert "alerts[1].labels" in body["detail"]


def test_more_alerts_than_the_batch_limit_is_413(api, asset, settings):
    settings.DAM_MAX_FAULTS_PER_REQUEST = 3
    alerts = [alert(fingerprint=f"{n:016x}") for n in range(4)]
    body = assert_error(api("detector").post(RECEIVER, webhook(*alerts), format="json"), 413, "limit")
    assert body["limit"] == 3 and not Fault.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_detectors_and_staff_post_alerts(api, asset, role):
    assert_error(api(role, name="host-001").post(RECEIVER, webhook(alert()), format="json"), 403)
    assert not Fault.objects.exists()
