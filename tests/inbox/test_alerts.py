"""E-mail alerts for priority messages outside working hours, and the daily digest.

The office works Monday to Friday, 08:00–15:00 in Madrid. March 2026: Tuesday the 3rd is a working
day, Saturday the 7th is not (and no public holiday is near).
"""

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.urls import reverse
from django.utils import translation

from inbox.alerts import (
    ALERT_FRESHNESS,
    DIGEST_LIST_LIMIT,
    EXCERPT_LENGTH,
    digest_slot,
    digests_send,
)
from inbox.models import AlertPreference, Conversation
from inbox.services import conversation_mark_spam
from socialdesk.beat import BEAT_SCHEDULE
from socialdesk.models import Role, User, WorkingInterval
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network

MADRID = ZoneInfo("Europe/Madrid")
SATURDAY_NOON = datetime(2026, 3, 7, 12, 0, tzinfo=MADRID)
TUESDAY_TEN = datetime(2026, 3, 3, 10, 0, tzinfo=MADRID)
COMPLAINT = "Quiero poner una queja: nadie me contesta"


@pytest.fixture(autouse=True)
def office_hours(db):
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=weekday, starts_at=time(8), ends_at=time(15)) for weekday in range(5)
    )


@pytest.fixture(autouse=True)
def _forget_alerts_sent():
    """The one-alert-an-hour slots live in the (per-process) cache, which outlives each test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def public_url(settings):
    settings.SOCIALDESK_PUBLIC_URL = "https://desk.example.org"


def wants(user, *, email: str = "", priority: bool = False, digest: bool = False, last_digest_at=None):
    return AlertPreference.objects.create(
        user=user,
        email=email,
        priority_off_hours=priority,
        daily_digest=digest,
        last_digest_at=last_digest_at,
    )


@pytest.fixture
def manager_on_call(manager):
    manager.email = "marta@example.org"
    manager.save()
    wants(manager, priority=True)
    return manager


def writes_at(when: datetime, channel, text: str = COMPLAINT, *, capture, **more):
    """A citizen's message arriving at `when`, the ingest committed (and its on-commit tasks run)."""
    with time_machine.travel(when, tick=False), capture(execute=True):
        return citizen_writes(channel, text, at=when, **more)


def link_to(conversation) -> str:
    return "https://desk.example.org" + reverse("inbox:conversation", args=[conversation.pk])


# --- Priority alerts ------------------------------------------------------------------------------


def test_a_priority_message_on_saturday_noon_is_e_mailed_with_little_personal_data(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    long_complaint = COMPLAINT + " " + "y sigo esperando respuesta desde hace semanas " * 10
    message = writes_at(
        SATURDAY_NOON,
        sandbox_channel,
        long_complaint,
        author_name="Lucía Moreno Ferrer",
        capture=django_capture_on_commit_callbacks,
    )

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["marta@example.org"]
    with translation.override(settings.LANGUAGE_CODE):
        network = str(sandbox_channel.get_network_display())
    assert "Lucía" in sent.subject and network in sent.subject
    assert link_to(message.conversation) in sent.body
    quoted = next(line for line in sent.body.splitlines() if line.startswith("“"))
    excerpt = quoted.removeprefix("“").removesuffix("”")
    assert len(excerpt) <= EXCERPT_LENGTH
    assert excerpt.startswith(COMPLAINT)
    assert long_complaint not in sent.body
    for personal in ("Moreno", "Ferrer", "@lucia", "citizen-1"):
        assert personal not in sent.subject + sent.body


def test_the_alert_is_written_in_the_sites_language_whatever_language_is_active(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    with translation.override("en"):
        writes_at(SATURDAY_NOON, sandbox_channel, capture=django_capture_on_commit_callbacks)

    with translation.override(settings.LANGUAGE_CODE):
        network = str(sandbox_channel.get_network_display())
    with translation.override("en"):
        english = str(sandbox_channel.get_network_display())
    assert network != english
    assert network in mail.outbox[0].subject


def test_no_alert_on_a_weekday_at_ten(manager_on_call, sandbox_channel, django_capture_on_commit_callbacks):
    with time_machine.travel(TUESDAY_TEN, tick=False), django_capture_on_commit_callbacks() as callbacks:
        citizen_writes(sandbox_channel, COMPLAINT, at=TUESDAY_TEN)

    assert callbacks == []
    assert mail.outbox == []


def test_an_ordinary_message_off_hours_gets_no_alert(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    writes_at(
        SATURDAY_NOON,
        sandbox_channel,
        "Gracias por la información",
        capture=django_capture_on_commit_callbacks,
    )

    assert mail.outbox == []


def test_a_citizen_writing_three_times_without_an_answer_is_a_priority(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    for minutes, text in enumerate(["Hola", "¿Hay alguien?", "Necesito saberlo hoy"]):
        writes_at(
            SATURDAY_NOON + timedelta(minutes=minutes),
            sandbox_channel,
            text,
            capture=django_capture_on_commit_callbacks,
        )

    assert len(mail.outbox) == 1
    assert "Necesito saberlo hoy" in mail.outbox[0].body


def test_the_alert_is_queued_only_after_the_ingest_commits(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    with time_machine.travel(SATURDAY_NOON, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            citizen_writes(sandbox_channel, COMPLAINT, at=SATURDAY_NOON)
            assert mail.outbox == []
        assert len(callbacks) == 1
        callbacks[0]()

    assert len(mail.outbox) == 1


def test_one_alert_per_conversation_per_hour(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    first = writes_at(SATURDAY_NOON, sandbox_channel, capture=capture)
    writes_at(SATURDAY_NOON + timedelta(minutes=10), sandbox_channel, "¡Es urgente!", capture=capture)
    other = writes_at(
        SATURDAY_NOON + timedelta(minutes=20),
        sandbox_channel,
        thread_key="t-2",
        author_id="c-2",
        capture=capture,
    )
    assert [link_to(first.conversation) in m.body for m in mail.outbox] == [True, False]
    assert link_to(other.conversation) in mail.outbox[1].body

    writes_at(SATURDAY_NOON + timedelta(minutes=61), sandbox_channel, "Sigo esperando", capture=capture)

    assert len(mail.outbox) == 3
    assert "Sigo esperando" in mail.outbox[2].body


def test_no_alert_for_spam(manager_on_call, sandbox_channel, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    first = writes_at(
        SATURDAY_NOON - timedelta(hours=2), sandbox_channel, "Oferta increíble", capture=capture
    )
    conversation_mark_spam(conversation=first.conversation, spam=True)

    writes_at(SATURDAY_NOON, sandbox_channel, "Oferta URGENTE, queja", capture=capture)

    assert mail.outbox == []


def test_no_alert_for_a_message_that_reaches_the_desk_hours_late(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    written = SATURDAY_NOON - ALERT_FRESHNESS - timedelta(minutes=1)
    with time_machine.travel(SATURDAY_NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        citizen_writes(sandbox_channel, COMPLAINT, at=written)

    assert mail.outbox == []


def test_no_alert_when_the_conversation_was_answered_before_the_task_ran(
    manager_on_call, sandbox_channel, django_capture_on_commit_callbacks
):
    with time_machine.travel(SATURDAY_NOON, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            citizen_writes(sandbox_channel, COMPLAINT, at=SATURDAY_NOON)
        we_answer_on_the_network(sandbox_channel, at=SATURDAY_NOON + timedelta(minutes=1))
        callbacks[0]()

    assert mail.outbox == []


def test_alerts_go_to_each_reader_of_the_desk_who_asked_at_their_address(
    manager_on_call, supervisor, administrator, outsider, sandbox_channel, django_capture_on_commit_callbacks
):
    wants(supervisor, email="guardia@example.org", priority=True)
    administrator.email = "ana@example.org"
    administrator.save()
    wants(administrator, priority=True)  # administrators do not read citizens' conversations
    wants(outsider, email="olga@example.org", priority=True)
    no_address = User.objects.create_user(username="nadia", role=Role.MANAGER)
    wants(no_address, priority=True)
    digest_only = User.objects.create_user(username="diana", role=Role.MANAGER, email="diana@example.org")
    wants(digest_only, digest=True)

    writes_at(SATURDAY_NOON, sandbox_channel, capture=django_capture_on_commit_callbacks)

    assert sorted(address for sent in mail.outbox for address in sent.to) == [
        "guardia@example.org",
        "marta@example.org",
    ]
    assert all(len(sent.to) == 1 for sent in mail.outbox)  # nobody sees who else was told


def test_nobody_asked_nothing_is_queued(manager, sandbox_channel, django_capture_on_commit_callbacks):
    with time_machine.travel(SATURDAY_NOON, tick=False), django_capture_on_commit_callbacks() as callbacks:
        citizen_writes(sandbox_channel, COMPLAINT, at=SATURDAY_NOON)

    assert callbacks == []


# --- Daily digest ---------------------------------------------------------------------------------


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MADRID)


def test_the_digest_slot_is_eight_in_madrid_every_day():
    assert digest_slot(local(8, 7, 59)) == local(7, 8)  # Sunday before eight: Saturday's
    assert digest_slot(local(8, 8)) == local(8, 8)
    # Summer time starts on 29 March: still eight o'clock on the office clock.
    assert digest_slot(datetime(2026, 3, 30, 6, 0, tzinfo=UTC)) == datetime(2026, 3, 30, 8, 0, tzinfo=MADRID)


def test_the_digest_goes_once_a_day_weekends_included(manager, sandbox_channel):
    manager.email = "marta@example.org"
    manager.save()
    wants(manager, digest=True)

    sent = [
        digests_send(now=local(7, 8, 5)),  # Saturday
        digests_send(now=local(7, 8, 20)),
        digests_send(now=local(7, 23, 50)),
        digests_send(now=local(8, 7, 50)),
        digests_send(now=local(8, 8, 5)),  # Sunday
    ]

    assert sent == [1, 0, 0, 0, 1]
    assert [m.to for m in mail.outbox] == [["marta@example.org"]] * 2
    assert AlertPreference.objects.get(user=manager).last_digest_at == local(8, 8, 5)


def test_the_digest_lists_what_waits_and_what_came_off_hours_since_the_last_one(
    manager, supervisor, sandbox_channel
):
    supervisor.email = "sergio@example.org"
    supervisor.save()
    wants(supervisor, digest=True, last_digest_at=local(8, 8, 5))
    old = citizen_writes(
        sandbox_channel, "Pedí cita el viernes", thread_key="old", author_id="c-old", at=local(6, 10)
    )
    night = citizen_writes(
        sandbox_channel,
        "Tengo una queja sobre la oficina",
        thread_key="night",
        author_id="c-night",
        author_name="Joan Ferrer",
        at=local(8, 22),
    )
    dawn = citizen_writes(
        sandbox_channel, "Madrugo mucho", thread_key="dawn", author_id="c-dawn", at=local(9, 7)
    )
    answered = citizen_writes(sandbox_channel, "Hola", thread_key="done", author_id="c-done", at=local(8, 21))
    we_answer_on_the_network(sandbox_channel, thread_key="done", at=local(8, 21, 30))

    assert digests_send(now=local(9, 8, 0)) == 1

    sent = mail.outbox[0]
    assert sent.to == ["sergio@example.org"]
    assert "3" in sent.subject  # three conversations need a reply: not the answered one
    summary, priority, waiting, off_hours = sent.body.split("\n\n")[:4]
    assert summary.startswith("3 ") and "https://desk.example.org/inbox/" in summary
    assert _links(priority) == [link_to(night.conversation)]
    assert _links(waiting) == [link_to(m.conversation) for m in (old, night, dawn)]  # oldest first
    # Since the last digest, outside working hours; Friday 10:00 was in office hours.
    assert _links(off_hours) == [link_to(m.conversation) for m in (answered, night, dawn)]
    assert "Joan" in sent.body and "Ferrer" not in sent.body


def _links(section: str) -> list[str]:
    return [line.strip() for line in section.splitlines() if line.strip().startswith("https://")]


def test_the_digest_names_at_most_ten_of_each(manager, sandbox_channel):
    manager.email = "marta@example.org"
    manager.save()
    wants(manager, digest=True, last_digest_at=local(7, 8))
    for number in range(DIGEST_LIST_LIMIT + 3):
        citizen_writes(
            sandbox_channel,
            f"Mensaje {number}",
            thread_key=f"t-{number}",
            author_id=f"c-{number}",
            at=local(7, 20),
        )

    digests_send(now=local(8, 8))

    summary, waiting, off_hours = mail.outbox[0].body.split("\n\n")[:3]
    assert summary.startswith(f"{DIGEST_LIST_LIMIT + 3} ")
    assert len(_links(waiting)) == DIGEST_LIST_LIMIT
    assert off_hours.startswith(f"{DIGEST_LIST_LIMIT + 3} ")
    assert len(_links(off_hours)) == DIGEST_LIST_LIMIT


def test_a_digest_is_sent_even_when_nothing_waits(manager, db):
    manager.email = "marta@example.org"
    manager.save()
    wants(manager, digest=True)

    assert digests_send(now=local(7, 8)) == 1
    assert Conversation.objects.count() == 0
    assert "0" in mail.outbox[0].subject


def test_the_digest_is_in_the_beat_schedule():
    entry = next(entry for entry in BEAT_SCHEDULE.values() if entry["task"] == "inbox.tasks.send_due_digests")
    assert entry["schedule"] <= 15 * 60


class PausingBackend(EmailBackend):
    """The first send waits until released, like a slow mail server holding one run mid-digest."""

    started = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        if not PausingBackend.started.is_set():
            PausingBackend.started.set()
            PausingBackend.release.wait(10)
        return super().send_messages(messages)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_digest(manager, settings):
    settings.EMAIL_BACKEND = f"{__name__}.PausingBackend"
    PausingBackend.started.clear()
    PausingBackend.release.clear()
    WorkingInterval.objects.all().delete()  # the autouse fixture ran before the flush-per-test database
    manager.email = "marta@example.org"
    manager.save()
    wants(manager, digest=True)
    results = {}

    def beat_run(name):
        try:
            results[name] = digests_send(now=local(7, 8, 5))
        finally:
            connection.close()

    first = threading.Thread(target=beat_run, args=("first",))
    second = threading.Thread(target=beat_run, args=("second",))
    first.start()
    try:
        assert PausingBackend.started.wait(10)
        second.start()
        second.join(10)
    finally:
        PausingBackend.release.set()
        first.join(10)
        second.join(10)

    assert results == {"first": 1, "second": 0}
    assert len(mail.outbox) == 1
    assert digests_send(now=local(7, 8, 30)) == 0


# --- Preferences page -----------------------------------------------------------------------------

ALERTS = "/inbox/alerts/"


def test_the_alerts_page_is_linked_and_saves_the_managers_choice(manager_client, manager):
    manager.email = "marta@example.org"
    manager.save()

    page = manager_client.get(ALERTS)
    assert page.status_code == 200
    assert f'class="alerts-link" href="{ALERTS}"' in page.content.decode()  # in every page's header
    assert reverse("inbox:alerts") == ALERTS

    response = manager_client.post(ALERTS, {"priority_off_hours": "on", "daily_digest": "on", "email": ""})

    assert response.status_code == 302
    preference = AlertPreference.objects.get(user=manager)
    assert (preference.priority_off_hours, preference.daily_digest, preference.email) == (True, True, "")
    assert "checked" in manager_client.get(ALERTS).content.decode()


def test_the_supervisor_changes_nothing_not_even_alerts(supervisor_client, supervisor):
    response = supervisor_client.post(ALERTS, {"daily_digest": "on", "email": "sergio@example.org"})

    assert response.status_code == 403
    assert not AlertPreference.objects.exists()
    assert "alerts-link" not in supervisor_client.get(reverse("home")).content.decode()


def test_asking_for_mail_without_any_address_is_refused_clearly(manager_client, manager):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = manager_client.post(ALERTS, {"daily_digest": "on", "email": ""})

    assert response.status_code == 400
    assert "your account has no e-mail address" in response.content.decode()
    assert not AlertPreference.objects.exists()


def test_a_bad_address_is_refused(manager_client, manager):
    response = manager_client.post(ALERTS, {"daily_digest": "on", "email": "not-an-address"})

    assert response.status_code == 400
    assert not AlertPreference.objects.exists()


@pytest.mark.parametrize("who", ["administrator", "outsider"])
def test_who_does_not_read_the_desk_has_no_alerts_page(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(ALERTS).status_code == 403
    assert client.post(ALERTS, {"daily_digest": "on", "email": "x@example.org"}).status_code == 403
    assert not AlertPreference.objects.exists()
