"""The asset's answer is built straight from the row (AssetSerializer.to_representation, for the list's speed): it
must say exactly what DRF's declared fields say, for machines in every situation the answer shows."""
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

import lifecycle
from assets.api.serializers import ANSWER_ROW, AssetSerializer
from assets.models import IsolationRequest
from assets.selectors import asset_list
from inspection.models import Inspection


@pytest.fixture
def varied(make_asset):
    plain = make_asset("plain-01")
    bmc = make_asset("bmc-01", serial="SN1", asset_tag="AT1", site="dc2", rack="R7", exclude_from_automation=True,
                     flapping=True, bmc_url="https://10.0.0.9", bmc_system="1", bmc_username="root",
                     bmc_verify_tls=False)
    bmc.set_bmc_password("secret")
    bmc.save()
    repaired = make_asset("repair-01")
    lifecycle.isolate(asset_id=repaired.id, actor="alice", reason="disk")
    lifecycle.start_repair(asset_id=repaired.id, actor="job:open_repair_ticket")
    waiting = make_asset("waiting-01")
    IsolationRequest.objects.create(asset=waiting, reason="budget")
    inspected = make_asset("inspected-01")
    Inspection.objects.create(asset=inspected, verdict="pass", finished_at=timezone.now() - timedelta(hours=1))
    Inspection.objects.create(asset=inspected)  # the newest: still pending, not finished
    return [plain, bmc, repaired, waiting, inspected]


def test_the_answer_is_what_drf_s_fields_say(varied):
    answers = AssetSerializer(asset_list().order_by("hostname"), many=True).data
    generic = [serializers.ModelSerializer.to_representation(AssetSerializer(), asset)
               for asset in asset_list().order_by("hostname")]
    assert len(answers) == 5
    assert [dict(a) for a in answers] == [dict(g) for g in generic]
    shown = {a["hostname"]: a for a in answers}
    # and the cases are really there, so the comparison covers them
    assert shown["repair-01"]["open_ticket"] and shown["repair-01"]["state"] == "in_repair"
    assert shown["waiting-01"]["pending_isolation"]
    assert shown["inspected-01"]["last_inspection"]["verdict"] == "pending"
    assert shown["bmc-01"]["bmc_password_set"] is True and shown["bmc-01"]["flapping"] is True
    assert list(answers[0]) == list(generic[0])  # the same keys in the same order


def test_the_list_s_rows_answer_what_drf_s_fields_say(varied):
    # the list hands the serializer rows (values(ANSWER_ROW)), not model instances
    rows = asset_list().order_by("hostname").values(*ANSWER_ROW)
    generic = [serializers.ModelSerializer.to_representation(AssetSerializer(), asset)
               for asset in asset_list().order_by("hostname")]
    answers = AssetSerializer(rows, many=True).data
    assert [dict(a) for a in answers] == [dict(g) for g in generic]
    assert [list(a) for a in answers] == [list(g) for g in generic]
