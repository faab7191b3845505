"""Celery's filesystem transport (the embedded default of `make run`), made safe to read while written.

kombu's own transport creates a message file under its final name and only then writes into it, and
the reader takes any file with that name: a worker that looks between the two reads an empty file,
fails to decode it and stops with "Unrecoverable error: JSONDecodeError" (kombu issue #1551), which
takes `make run` down with it. Seen here after about twenty minutes of a quiet demo desk.

Here a message is written under a name the reader ignores and renamed to its final name once
complete (a rename within one folder is atomic), and a file that still cannot be read (left empty by
a crash, or by kombu's own transport before this one) is logged and skipped instead of stopping the
worker: it holds nothing to lose. A hidden file older than an hour was left by a process that died
while writing it (a write takes milliseconds): the next channel to open removes it, and logs it.

The broker URL names it by a scheme of its own, ``socialdesk-filesystem://``, registered with kombu
when the Celery app is created: a URL given in the environment (CELERY_BROKER_URL=redis://…) still
picks its own transport, as an explicit ``broker_transport`` setting would not let it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid

from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)

SCHEME = "socialdesk-filesystem"

# The reader takes "<stamp>_<id>.<queue>.msg" only; this suffix keeps a file out of its sight.
PARTIAL_SUFFIX = ".partial"
# A hidden file this old was abandoned by a writer that died: the message never left its sender.
ABANDONED_AFTER_SECONDS = 60 * 60


class Channel(filesystem.Channel):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for folder in {self.data_folder_in, self.data_folder_out}:
            remove_abandoned_partials(folder)

    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: written whole under a hidden name, then renamed."""
        # The reader takes files in the order of their names: nanoseconds, zero-padded, keep the order
        # of messages sent within one millisecond (kombu's milliseconds left it to the random id).
        # The wall clock, not the monotonic one: messages left in the folder outlive a reboot.
        name = f"{time.time_ns():020d}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        """The next message of ``queue``; an unreadable file is skipped (it is removed by then)."""
        try:
            return super()._get(queue)
        except ValueError:  # json.JSONDecodeError, UnicodeDecodeError
            logger.exception("Skipped an unreadable message file in the %s queue", queue)
            raise Empty() from None


def remove_abandoned_partials(folder: str, *, now: float | None = None) -> int:
    """Remove the hidden files of ``folder`` older than ABANDONED_AFTER_SECONDS; returns how many."""
    cutoff = (time.time() if now is None else now) - ABANDONED_AFTER_SECONDS
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:  # not created yet: nothing was written there
        return 0
    for entry in entries:
        if not entry.name.endswith(PARTIAL_SUFFIX):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except FileNotFoundError:  # another process removed it first
            continue
    if removed:
        logger.warning("Removed %d message files left half-written in %s", removed, folder)
    return removed


class Transport(filesystem.Transport):
    Channel = Channel
    # Declared exchanges and queues are kept here, per process: not shared with kombu's own class.
    global_state = virtual.BrokerState()


def register_transport() -> None:
    """Let ``socialdesk-filesystem://`` name this transport in this process."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
