"""Real worker, beat and web processes: tasks travel, periodic tasks fire, /healthz turns green."""

import http.client
import json
import os
import re
import secrets

import pytest
import redis
from celery import Celery

from socialdesk.heartbeat import BEAT, COMPONENTS, TASKS, WORKER
from tests.integration.desk import procfile_command, quick_worker_start

pytestmark = pytest.mark.integration


def worker_heartbeat_repeats(desk, worker):
    """The bootstep wrote at start-up, then again from the worker's timer."""
    first = desk.wait_until(lambda: desk.heartbeats().get(WORKER), "the worker's first heartbeat")
    assert first[1] == worker.pid, "written by the worker's main process"
    desk.wait_until(lambda: desk.heartbeats()[WORKER][0] > first[0], "the worker's next heartbeat")


def web_port(desk, web) -> int:
    found = desk.wait_until(
        lambda: re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", web.log()), "gunicorn to listen"
    )
    return int(found.group(1))


def get_healthz(port: int) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # Plain HTTP with DEBUG off, as a load balancer or the compose healthcheck asks.
        connection.request("GET", "/healthz", headers={"Host": "desk.example.org"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_beat_sends_the_heartbeat_task_a_worker_runs_and_healthz_is_green(make_desk):
    desk = make_desk()  # no REDIS_URL: SQLite and the filesystem broker in the desk's var directory
    desk.python("manage.py", "migrate", "--noinput")

    # Worker and beat exactly as `make run` starts them; the web as in production, on a free port.
    worker = desk.start("worker", *procfile_command("worker"), *quick_worker_start())
    beat = desk.start("beat", *procfile_command("beat"))
    web = desk.start("web", "gunicorn", "socialdesk.wsgi", "--bind", "127.0.0.1:0", "--workers", "1")

    def every_heartbeat():
        seen = desk.heartbeats()
        return seen if seen.keys() >= set(COMPONENTS) else None

    heartbeats = desk.wait_until(
        every_heartbeat, "heartbeats from worker, beat and the periodic heartbeat task"
    )
    assert heartbeats[BEAT][1] == beat.pid
    # The periodic task ran in the worker (in a pool process of its group, whatever the pool).
    assert os.getpgid(heartbeats[TASKS][1]) == worker.pid
    worker_heartbeat_repeats(desk, worker)

    status, body = get_healthz(web_port(desk, web))

    assert (status, body["status"]) == (200, "ok"), body
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "broker",
        *COMPONENTS,
    }
    assert body["checks"]["broker"]["detail"] == "filesystem"
    assert body["checks"]["database"]["detail"] == "sqlite"


@pytest.mark.redis
def test_a_worker_on_redis_answers_ping_through_the_result_backend(make_desk):
    redis_url = os.environ["REDIS_URL"]
    # A queue of its own, so a parallel test or another desk on the same Redis cannot take the task.
    queue = f"integration-{secrets.token_hex(8)}"
    desk = make_desk(REDIS_URL=redis_url)
    # The worker's heartbeat goes to the desk's own SQLite file.
    desk.python("manage.py", "migrate", "--noinput")
    # The prefork pool, as production runs it.
    worker = desk.start(
        "worker",
        *("celery", "--app", "socialdesk", "worker", "--loglevel", "INFO", "--concurrency", "1"),
        *("--queues", queue, *quick_worker_start()),
    )

    client = Celery("integration-client", broker=redis_url, backend=redis_url)
    try:
        result = client.send_task("socialdesk.tasks.ping", queue=queue)
        desk.wait_until(result.ready, "the worker to answer ping")
        assert result.get(timeout=5) == "pong"
        result.forget()
    finally:
        client.close()
        # What kombu keeps about the queue; the worker's control bindings expire by themselves.
        redis.Redis.from_url(redis_url).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )

    # On Redis the worker runs its timer on the event loop (not a thread): it must beat there too.
    worker_heartbeat_repeats(desk, worker)
