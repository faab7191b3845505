"""Worker and beat prove they are alive by writing a Heartbeat row; /healthz reads it.

The worker writes from a timer in its main process (a bootstep), so the heartbeat says the worker
process is up even when it is busy; beat writes from its scheduler loop, so the heartbeat says beat
is ticking, whatever it has to send. A third row comes from socialdesk.tasks.heartbeat, which beat
sends and a worker runs: it proves the whole path beat -> broker -> worker -> database.
"""

import logging
import os
import socket
import time

from celery import bootsteps
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

WORKER = "worker"
BEAT = "beat"
TASKS = "tasks"  # a task sent by beat and run by a worker: the whole path works
COMPONENTS = (WORKER, BEAT, TASKS)


def heartbeat_record(*, component: str) -> None:
    from socialdesk.models import Heartbeat

    close_old_connections()
    Heartbeat.objects.update_or_create(
        component=component,
        defaults={"last_seen_at": timezone.now(), "hostname": socket.gethostname(), "pid": os.getpid()},
    )


def _heartbeat_record_or_log(*, component: str) -> None:
    try:
        heartbeat_record(component=component)
    except DatabaseError:
        # A database blip must not stop beat or keep a worker from starting: the heartbeat goes
        # stale and /healthz says so, while the process keeps doing what it still can.
        logger.exception("%s could not record its heartbeat", component)


class WorkerHeartbeat(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        self._beat()
        self.timer_ref = worker.timer.call_repeatedly(settings.SOCIALDESK_HEARTBEAT_SECONDS, self._beat)

    def stop(self, worker):
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None

    def _beat(self):
        _heartbeat_record_or_log(component=WORKER)


class HeartbeatScheduler(PersistentScheduler):
    """The default file-backed scheduler, plus a heartbeat written at most every few seconds."""

    def __init__(self, *args, **kwargs):
        self._last_heartbeat = float("-inf")
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now - self._last_heartbeat >= settings.SOCIALDESK_HEARTBEAT_SECONDS:
            _heartbeat_record_or_log(component=BEAT)
            self._last_heartbeat = now
        next_in = super().tick(*args, **kwargs)
        # Wake up in time for the next heartbeat even when no task is due for a while.
        return min(next_in, settings.SOCIALDESK_HEARTBEAT_SECONDS)
