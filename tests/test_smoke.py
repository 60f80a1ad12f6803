"""The whole lifecycle in one process: fault → isolated → in_repair → verifying → returned."""
from assets.models import Asset


def test_critical_fault_walks_the_lifecycle(api, asset, eager_jobs):
    detector, staff = api("detector"), api("staff")

    response = detector.post("/api/v1/faults/", {"asset": asset.hostname, "component": "disk",
                                                 "severity": "critical", "summary": "SMART errors"}, format="json")
    assert response.status_code == 202, response.content

    body = staff.get(f"/api/v1/assets/{asset.hostname}/").json()
    assert body["state"] == "in_repair"
    response = staff.post(f"/api/v1/tickets/{body['open_ticket']}/resolve/", {"action_taken": "replaced disk"},
                          format="json")
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).state == "returned"
