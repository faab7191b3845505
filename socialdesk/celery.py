import os

from celery import Celery

from socialdesk.heartbeat import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialdesk.settings")

app = Celery("socialdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(WorkerHeartbeat)


@app.on_after_configure.connect
def install_beat_schedule(sender, **kwargs) -> None:
    # Imported here: the schedule reads Django settings, which are ready only once Celery is configured.
    from socialdesk.beat import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE
