"""The embedded broker (dam/broker.py): a worker polling while a message is being written never sees it half
written; it sees nothing, then the whole message."""
import os
import queue

import pytest
from kombu import Connection

from dam import broker


@pytest.fixture
def channel(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {"data_folder_in": str(folders["queue"]), "data_folder_out": str(folders["queue"]),
               "processed_folder": str(folders["processed"]), "control_folder": str(folders["control"])}
    # (the Celery app makes it the "filesystem" alias when the embedded broker is in use; here it is named directly,
    # so the test runs whatever the broker of this run)
    with Connection("filesystem://localhost//", transport="dam.broker:Transport",
                    transport_options=options) as connection:
        yield connection.default_channel


def test_a_message_is_invisible_until_written_whole(channel, monkeypatch):
    seen_while_writing = []
    real_replace = os.replace

    def poll_then_replace(src, dst):
        # a worker polls after the bytes are written but before the message is in place
        try:
            seen_while_writing.append(channel._get("jobs"))
        except queue.Empty:
            seen_while_writing.append(None)
        real_replace(src, dst)

    monkeypatch.setattr(broker.os, "replace", poll_then_replace)
    channel._put("jobs", {"body": "isolate host-001"})

    assert seen_while_writing == [None]
    assert channel._get("jobs") == {"body": "isolate host-001"}
    with pytest.raises(queue.Empty):
        channel._get("jobs")

