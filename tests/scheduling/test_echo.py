"""Planning echoes: the service on a published delivery, and the dispatcher's hook that plans them for
a post published during working hours (and only then)."""

import threading
import time as clock
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone, translation
from django.utils.translation import gettext

from networks.models import SandboxPost
from scheduling import echo as echo_module
from scheduling.dispatch import deliveries_claim_due, delivery_publish
from scheduling.echo import echo_plan_after_publish, echoes_plan, live_post_echoes_plan
from scheduling.models import (
    AudienceSegment,
    Delivery,
    DeliveryState,
    EchoRule,
    EchoState,
    Post,
    PostOrigin,
)
from socialdesk.business_calendar import business_calendar
from socialdesk.models import WorkingInterval

MADRID = ZoneInfo("Europe/Madrid")
# Wednesday 13 May 2026, mid-morning: the office is open (08:00–15:00 on weekdays).
WORKING_MORNING = datetime(2026, 5, 13, 10, tzinfo=MADRID)
# The same Wednesday after closing.
EVENING = datetime(2026, 5, 13, 20, tzinfo=MADRID)


@pytest.fixture(autouse=True)
def office_hours(db):
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=weekday, starts_at=time(8), ends_at=time(15)) for weekday in range(5)
    )


@pytest.fixture
def job_seekers(db) -> AudienceSegment:
    # Seeded by a migration, but a transactional test elsewhere may have flushed the table.
    segment, _ = AudienceSegment.objects.get_or_create(
        slug="job-seekers", defaults={"name": "Personas que buscan empleo"}
    )
    return segment


@pytest.fixture
def published(post, make_delivery, job_seekers):
    """A delivery published during working hours, for the job seekers."""
    Post.objects.filter(pk=post.pk).update(segment=job_seekers)
    return make_delivery(state=DeliveryState.PUBLISHED, published_at=WORKING_MORNING, external_id="sb-1")


def test_echoes_are_scheduled_off_hours_with_varied_text_and_a_reason(published, job_seekers):
    echoes = echoes_plan(delivery=published, now=WORKING_MORNING)

    rule = EchoRule.objects.get(channel=published.channel)
    assert len(echoes) == rule.echoes_per_post == 2
    calendar = business_calendar()
    for echo in Delivery.objects.filter(echo_of=published):
        assert (echo.state, echo.is_echo, echo.post_id, echo.channel_id) == (
            DeliveryState.SCHEDULED,
            True,
            published.post_id,
            published.channel_id,
        )
        assert echo.scheduled_at == echo.due_at
        assert WORKING_MORNING < echo.scheduled_at < WORKING_MORNING + timedelta(days=7)
        assert not calendar.is_working_time(echo.scheduled_at)
        assert abs(echo.scheduled_at - WORKING_MORNING) >= timedelta(minutes=rule.min_gap_minutes)
        assert echo.text != published.text
        assert job_seekers.name in echo.echo_why
    assert len({echo.text for echo in echoes}) == 2
    published.post.refresh_from_db()
    assert published.post.echo_state == EchoState.PLANNED


def test_planning_twice_gives_the_same_echoes_and_creates_nothing(published):
    first = echoes_plan(delivery=published, now=WORKING_MORNING)
    second = echoes_plan(delivery=published, now=WORKING_MORNING + timedelta(minutes=5))

    assert [echo.pk for echo in second] == [echo.pk for echo in first]
    assert Delivery.objects.filter(is_echo=True).count() == 2


def test_echoes_keep_the_gap_from_everything_else_on_the_channel(published, make_delivery):
    rule = EchoRule.objects.create(channel=published.channel, echoes_per_post=3, min_gap_minutes=180)
    others = [
        make_delivery("Curso de soldadura", at=datetime(2026, 5, 13, 21, tzinfo=MADRID)),
        make_delivery("Feria de empleo", at=datetime(2026, 5, 14, 19, tzinfo=MADRID)),
    ]

    echoes = echoes_plan(delivery=published, now=WORKING_MORNING)

    assert echoes
    for echo in echoes:
        for other in others:
            assert abs(echo.scheduled_at - other.scheduled_at) >= timedelta(minutes=rule.min_gap_minutes)


def test_the_channel_default_audience_stands_in_for_a_post_without_one(sandbox_channel, make_delivery):
    employers = AudienceSegment.objects.get(slug="employers")
    EchoRule.objects.create(channel=sandbox_channel, default_segment=employers)
    delivery = make_delivery(
        "Ayudas a la contratación", state=DeliveryState.PUBLISHED, published_at=WORKING_MORNING
    )

    echoes = echoes_plan(delivery=delivery, now=WORKING_MORNING)

    assert echoes
    assert all(employers.name in echo.echo_why for echo in echoes if not echo.is_exploration)


@pytest.mark.parametrize(
    "rule_fields", [{"is_enabled": False}, {"echoes_per_post": 0}], ids=["rule off", "zero echoes"]
)
def test_nothing_is_planned_when_the_rule_says_so(published, rule_fields):
    EchoRule.objects.create(channel=published.channel, **rule_fields)

    assert echoes_plan(delivery=published, now=WORKING_MORNING) == []
    assert not Delivery.objects.filter(is_echo=True).exists()
    published.post.refresh_from_db()
    assert published.post.echo_state == EchoState.NONE


def test_an_echo_or_an_unpublished_delivery_is_not_echoed(published, make_delivery):
    [echo, *_] = echoes_plan(delivery=published, now=WORKING_MORNING)
    Delivery.objects.filter(pk=echo.pk).update(state=DeliveryState.PUBLISHED, published_at=EVENING)
    failed = make_delivery("Otra", state=DeliveryState.FAILED)

    assert echoes_plan(delivery=echo, now=EVENING) == []
    assert echoes_plan(delivery=failed, now=WORKING_MORNING) == []
    assert Delivery.objects.filter(is_echo=True).count() == 2


def test_a_share_of_echoes_explores_untried_hours(published):
    # No measured post at all: every hour is untried, and with a share of 0.5 one of two explores.
    EchoRule.objects.create(channel=published.channel, exploration_share=0.5)

    echoes = echoes_plan(delivery=published, now=WORKING_MORNING)

    assert sorted(echo.is_exploration for echo in echoes) == [False, True]
    with translation.override("en"):
        assert "untried" in next(echo.echo_why for echo in echoes if echo.is_exploration)


def test_a_post_made_outside_socialdesk_is_planned_by_the_service_but_not_by_the_hook(published):
    Post.objects.filter(pk=published.post_id).update(origin=PostOrigin.NETWORK)

    assert live_post_echoes_plan(delivery_id=published.pk, now=WORKING_MORNING) == []
    assert len(echoes_plan(delivery=published, now=WORKING_MORNING)) == 2


# --- Through the dispatcher -----------------------------------------------------------------------


def publish_now(delivery: Delivery, capture) -> Delivery:
    with capture(execute=True):
        assert deliveries_claim_due(now=timezone.now(), limit=10) == [delivery.pk]
        delivery_publish(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PUBLISHED
    return delivery


def test_a_post_published_during_working_hours_gets_its_echoes(
    make_delivery, django_capture_on_commit_callbacks
):
    with time_machine.travel(WORKING_MORNING, tick=False):
        delivery = publish_now(make_delivery(), django_capture_on_commit_callbacks)

    echoes = Delivery.objects.filter(echo_of=delivery)
    assert echoes.count() == 2
    assert all(echo.scheduled_at > WORKING_MORNING for echo in echoes)


def test_a_post_published_after_hours_gets_no_echoes(make_delivery, django_capture_on_commit_callbacks):
    with time_machine.travel(EVENING, tick=False):
        publish_now(make_delivery(), django_capture_on_commit_callbacks)

    assert not Delivery.objects.filter(is_echo=True).exists()


def test_echoes_go_out_through_the_sandbox_and_create_no_echoes_themselves(
    make_delivery, sandbox_account, django_capture_on_commit_callbacks
):
    with time_machine.travel(WORKING_MORNING, tick=False):
        original = publish_now(make_delivery(), django_capture_on_commit_callbacks)
    for echo in Delivery.objects.filter(echo_of=original):
        with time_machine.travel(echo.scheduled_at, tick=False):
            publish_now(echo, django_capture_on_commit_callbacks)

    # The sandbox refuses a text published in the last 24 hours: the echoes' texts differ.
    assert SandboxPost.objects.filter(account=sandbox_account).count() == 3
    assert Delivery.objects.filter(is_echo=True).count() == 2
    assert not Delivery.objects.filter(echo_of__is_echo=True).exists()


def test_the_planning_is_queued_only_after_the_publication_commits(
    make_delivery, django_capture_on_commit_callbacks
):
    delivery = make_delivery(state=DeliveryState.PUBLISHED, published_at=WORKING_MORNING)

    with time_machine.travel(WORKING_MORNING, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            echo_plan_after_publish(delivery)
        assert len(callbacks) == 1
        assert not Delivery.objects.filter(is_echo=True).exists()
        callbacks[0]()

    assert Delivery.objects.filter(echo_of=delivery).count() == 2


# --- Two workers at once --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_planning_the_same_delivery_plan_it_once(monkeypatch, published):
    """The first worker holds the delivery's row while it plans; the second waits on that lock (seen
    in pg_stat_activity) and, once the first commits, finds the echoes and plans nothing."""
    real_texts = echo_module.echo_texts_vary
    calls = []

    def texts_once_the_other_worker_waits(**kwargs):
        calls.append(1)
        deadline = clock.monotonic() + 10
        with connections["default"].cursor() as cursor:
            while clock.monotonic() < deadline:
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return real_texts(**kwargs)
        raise AssertionError("the second worker never waited for the lock")

    monkeypatch.setattr(echo_module, "echo_texts_vary", texts_once_the_other_worker_waits)
    results: list[list[int]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def worker():
        try:
            start.wait(timeout=10)
            results.append([echo.pk for echo in echoes_plan(delivery=published, now=WORKING_MORNING)])
        except BaseException as exc:  # reported in the test's own thread below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not failures, failures
    assert len(calls) == 1
    assert len(results) == 2 and results[0] == results[1] and len(results[0]) == 2
    assert Delivery.objects.filter(is_echo=True).count() == 2


def test_the_reason_for_an_echos_time_is_said_in_the_readers_language(published, job_seekers):
    with translation.override("es"):
        echoes_plan(delivery=published, now=WORKING_MORNING)
    echo = Delivery.objects.filter(echo_of=published, is_exploration=False).first()

    for language in ("ca", "en"):
        with translation.override(language):
            expected = gettext("Best free hour for %(audience)s: score %(score)s.") % {
                "audience": job_seekers.name,
                "score": f"{echo.echo_score:.2f}",
            }
            assert echo.echo_why == expected
    with translation.override("ca"):
        assert echo.echo_why.startswith("Millor hora")
