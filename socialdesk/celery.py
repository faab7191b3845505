"""The Celery app: configured from the CELERY_* Django settings, scheduled by socialdesk.beat."""

import os
from pathlib import Path

from celery import Celery

from socialdesk.broker import SCHEME, register_transport
from socialdesk.heartbeat import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")

# The filesystem transport (the embedded default) expects these folders to exist already.
FILESYSTEM_BROKER_FOLDERS = ("data_folder_in", "data_folder_out", "control_folder", "processed_folder")

register_transport()
app = Celery("socialdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(WorkerHeartbeat)


@app.on_after_configure.connect
def install_beat_schedule(sender, **kwargs) -> None:
    # Imported here: the schedule reads Django settings, which are ready only once Celery is configured.
    from socialdesk.beat import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE


@app.on_after_configure.connect
def create_filesystem_broker_folders(sender, **kwargs) -> None:
    # Every process that sends or receives (web, worker, beat) configures the app first, so whichever
    # starts first creates the folders, and a fresh var/ directory needs no setup step.
    if not sender.conf.broker_url.startswith((f"{SCHEME}://", "filesystem://")):
        return
    options = sender.conf.broker_transport_options
    for option in FILESYSTEM_BROKER_FOLDERS:
        Path(options[option]).mkdir(parents=True, exist_ok=True)
