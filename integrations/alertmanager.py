"""Prometheus Alertmanager as a detector: its webhook's alerts, read as DAM faults (the contract's "Alertmanager
receiver"). Pure mapping, no database: the API checks the envelope, maps each alert here, validates the faults as
POST faults/ does, and hands them to the same fault intake (lifecycle.report_faults)."""
from __future__ import annotations

from assets.choices import Component, Severity

SUMMARY_MAX = 500  # assets.models.Fault.summary

# Alertmanager's `severity` label is free text; these are the spellings rule authors use (Prometheus' own examples,
# kube-prometheus, PagerDuty routing). Anything else is a warning: worth recording, not worth isolating on its own.
SEVERITIES = {
    "critical": Severity.CRITICAL, "page": Severity.CRITICAL,
    "warning": Severity.WARNING, "warn": Severity.WARNING,
    "info": Severity.INFO, "none": Severity.INFO,
}


class NoHost(ValueError):
    """The alert's labels name no machine (no hostname, instance or node label)."""


def alert_hostname(labels: dict) -> str:
    """The machine an alert is about: label `hostname`, else `instance` without its `:port`, else `node`."""
    if labels.get("hostname"):
        return labels["hostname"]
    if instance := labels.get("instance"):
        return strip_port(instance)
    if labels.get("node"):
        return labels["node"]
    raise NoHost("labels: no 'hostname', 'instance' or 'node' label names the machine")


def strip_port(instance: str) -> str:
    """'node-7:9100' → 'node-7'; '[2001:db8::7]:9100' → '2001:db8::7'; 'node-7' stays as it is."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    host, sep, port = instance.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host
    return instance


def alert_severity(alert: dict) -> str:
    if alert.get("status") == "resolved":
        return Severity.INFO  # the condition is over: kept on the record, it never isolates
    return SEVERITIES.get(str(alert["labels"].get("severity", "")).strip().lower(), Severity.WARNING)


def alert_component(labels: dict) -> str:
    component = str(labels.get("component", "")).strip().lower()
    return component if component in Component.values else Component.OTHER


def alert_summary(alert: dict) -> str:
    annotations = alert.get("annotations") or {}
    text = (annotations.get("summary") or annotations.get("description") or alert["labels"].get("alertname")
            or f"Alertmanager alert {alert['fingerprint']}")
    if alert.get("status") == "resolved":
        text = f"resolved: {text}"
    return text[:SUMMARY_MAX]


def alert_event_id(alert: dict) -> str:
    """`<fingerprint>:<startsAt>`: the same alert re-sent (every repeat_interval, or after a DAM outage) is the
    same event, a duplicate. Its resolution is another event of the same alert: `:resolved` is appended, since
    one event_id names one fault (one severity) and the resolution is stored as info."""
    event_id = f"{alert['fingerprint']}:{alert['startsAt']}"
    return f"{event_id}:resolved" if alert.get("status") == "resolved" else event_id


def alert_to_fault(alert: dict) -> dict:
    """One alert (an envelope already checked: labels, status, startsAt, fingerprint present) as a fault item in
    POST faults/'s wire shape. Raises NoHost when its labels name no machine."""
    labels = alert["labels"]
    resolved = alert.get("status") == "resolved"
    ends_at = alert.get("endsAt") or ""
    # A firing alert's endsAt is Alertmanager's "0001-01-01T00:00:00Z" or a guess; a resolved one's is when it ended.
    observed_at = ends_at if resolved and not ends_at.startswith("0001-") else alert["startsAt"]
    return {
        "asset": alert_hostname(labels),
        "component": alert_component(labels),
        "severity": alert_severity(alert),
        "summary": alert_summary(alert),
        "details": {"source": "alertmanager", "status": alert.get("status"), "labels": labels,
                    "annotations": alert.get("annotations") or {}, "generatorURL": alert.get("generatorURL", ""),
                    "startsAt": alert["startsAt"], "endsAt": ends_at},
        "observed_at": observed_at,
        "event_id": alert_event_id(alert),
    }
