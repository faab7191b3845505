"""Celery's filesystem transport (the embedded default of `make run`), made safe to read while written.

kombu's own transport creates a message file under its final name and only then writes into it, and
the reader takes any file with that name: a worker that looks between the two reads an empty file,
fails to decode it and stops with "Unrecoverable error: JSONDecodeError" (kombu issue #1551), which
takes `make run` down with it. Seen here after about twenty minutes of a quiet demo desk.

Here a message is written under a name the reader ignores and renamed to its final name once
complete (a rename within one folder is atomic), and a file that still cannot be read (left empty by
a crash, or by kombu's own transport before this one) is logged and skipped instead of stopping the
worker: it holds nothing to lose.

The broker URL names it by a scheme of its own, ``socialdesk-filesystem://``, registered with kombu
when the Celery app is created: a URL given in the environment (CELERY_BROKER_URL=redis://…) still
picks its own transport, as an explicit ``broker_transport`` setting would not let it.
"""

from __future__ import annotations

import logging
import os
import uuid
from time import monotonic_ns

from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.transport.virtual import Empty
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)

SCHEME = "socialdesk-filesystem"

# The reader takes "<stamp>_<id>.<queue>.msg" only; this suffix keeps a file out of its sight.
PARTIAL_SUFFIX = ".partial"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: written whole under a hidden name, then renamed."""
        # The reader takes files in the order of their names: nanoseconds, zero-padded, keep the order
        # of messages sent within one millisecond (kombu's milliseconds left it to the random id).
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"
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


class Transport(filesystem.Transport):
    Channel = Channel
    # Declared exchanges and queues are kept here, per process: not shared with kombu's own class.
    global_state = virtual.BrokerState()


def register_transport() -> None:
    """Let ``socialdesk-filesystem://`` name this transport in this process."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
