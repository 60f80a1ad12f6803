"""The embedded broker: kombu's filesystem transport, with each message written whole before it can be seen.

kombu's own `_put` creates the message file under its final name and only then writes into it, while `_get` takes any
file with a matching name without waiting for the writer's lock. A worker that polls in between reads an empty file,
fails to decode it and exits ("Unrecoverable error: JSONDecodeError"), which under `make run` stops the whole
installation. Here a message is written under a name no consumer matches and renamed into place: a rename within a
folder is atomic, so a consumer sees either no file or the whole message.
"""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The broker's folders are made by the broker, when it connects: never at settings import.
        for folder in (self.data_folder_in, self.data_folder_out, self.processed_folder, self.control_folder):
            os.makedirs(folder, exist_ok=True)

    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot and no ".msg" ending: _get's name filter never matches a message still being written.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
