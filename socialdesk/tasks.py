from celery import shared_task

from socialdesk.heartbeat import TASKS, heartbeat_record


@shared_task(name="socialdesk.tasks.ping", ignore_result=False)
def ping() -> str:
    """A round trip through broker, worker and result backend (operators: `celery call`)."""
    return "pong"


@shared_task(name="socialdesk.tasks.heartbeat")
def heartbeat() -> None:
    heartbeat_record(component=TASKS)
