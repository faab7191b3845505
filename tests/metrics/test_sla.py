"""Response targets: due times on the business calendar, compliance, the breach events, and who
may set the targets (the administrator; never the supervisor)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from inbox.models import Resolution
from metrics.models import CareCycleFact, ReportingEvent, ReportingEventKind, SlaTarget
from metrics.sla import sla_breaches_record, sla_due_at, sla_target_save
from metrics.tasks import refresh_rollups
from networks.base import InboundKind
from socialdesk.business_calendar import business_calendar
from socialdesk.models import Role
from socialdesk.models.audit import AuditAction, AuditEvent
from socialdesk.users import user_set_role
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network
from tests.metrics.helpers import answered, closed, madrid, new_thread, refreshed, report

ONE_HOUR = 3600


@pytest.fixture
def one_hour_for_private_messages(db):
    SlaTarget.objects.filter(conversation_kind=InboundKind.PRIVATE_MESSAGE).update(business_seconds=ONE_HOUR)


def breaches():
    return ReportingEvent.objects.filter(kind=ReportingEventKind.SLA_BREACHED)


def test_the_desk_starts_with_the_issues_targets(db):
    assert dict(SlaTarget.objects.values_list("conversation_kind", "business_seconds")) == {
        "public_comment": 4 * 3600,
        "mention": 4 * 3600,
        # One business day: the office's standard 08:00–15:00.
        "private_message": 7 * 3600,
    }
    assert all(SlaTarget.objects.values_list("is_active", flat=True))


@pytest.mark.parametrize(
    ("written", "due"),
    [
        # Half an hour left on Friday, the other half on Monday from the opening.
        (madrid(2026, 11, 27, 16, 30), madrid(2026, 11, 30, 9, 30)),
        # Friday 9 October and Monday 12 October 2026 are holidays: due on Tuesday.
        (madrid(2026, 10, 8, 16, 30), madrid(2026, 10, 13, 9, 30)),
        # Written on a Saturday: the hour starts on Monday at 09:00.
        (madrid(2026, 11, 28, 11), madrid(2026, 11, 30, 10)),
        # Inside office hours: plain clock time.
        (madrid(2026, 11, 25, 10, 15), madrid(2026, 11, 25, 11, 15)),
    ],
    ids=["friday-evening", "holidays", "saturday", "office-hours"],
)
def test_due_times_follow_the_business_calendar(
    sandbox_channel, office_hours, one_hour_for_private_messages, written, due
):
    assert sla_due_at(calendar=business_calendar(), started_at=written, target_seconds=ONE_HOUR) == due

    citizen_writes(sandbox_channel, thread_key=new_thread(), at=written)
    refreshed(written + timedelta(days=7))

    assert CareCycleFact.objects.get().sla_due_at == due


def test_an_overdue_cycle_gets_one_breach_event_with_its_due_time(
    sandbox_channel, office_hours, one_hour_for_private_messages
):
    written, due = madrid(2026, 11, 27, 16, 30), madrid(2026, 11, 30, 9, 30)
    conversation = citizen_writes(sandbox_channel, thread_key="late", at=written).conversation
    refreshed(due - timedelta(minutes=1))
    assert sla_breaches_record(now=due - timedelta(minutes=1)) == 0  # not due yet

    refreshed(due + timedelta(minutes=5))
    assert sla_breaches_record(now=due + timedelta(minutes=5)) == 1
    assert sla_breaches_record(now=due + timedelta(minutes=10)) == 0
    we_answer_on_the_network(sandbox_channel, thread_key="late", at=due + timedelta(minutes=30))
    refreshed(due + timedelta(hours=1))
    assert sla_breaches_record(now=due + timedelta(hours=1)) == 0

    breach = breaches().get()
    assert (breach.conversation_id, breach.cycle, breach.occurred_at, breach.source) == (
        conversation.pk,
        1,
        due,
        "system",
    )
    assert breach.details["due_at"] == due.isoformat()
    assert breach.details["target_business_seconds"] == ONE_HOUR
    assert (breach.wall_seconds, breach.business_seconds) == ((due - written).total_seconds(), ONE_HOUR)


def test_an_answer_after_the_due_time_is_a_breach_and_one_before_it_is_not(
    sandbox_channel, office_hours, one_hour_for_private_messages
):
    at = madrid(2026, 11, 25, 10)
    late = answered(sandbox_channel, at=at, after=timedelta(hours=2))
    answered(sandbox_channel, at=at, after=timedelta(minutes=59))
    now = madrid(2026, 11, 25, 15)
    refreshed(now)

    assert sla_breaches_record(now=now) == 1

    breach = breaches().get()
    assert breach.conversation_id == late.pk
    assert breach.details["answered_at"] == (at + timedelta(hours=2)).isoformat()


def test_the_beat_task_refreshes_then_records_breaches(
    sandbox_channel, office_hours, one_hour_for_private_messages
):
    import time_machine

    citizen_writes(sandbox_channel, thread_key="beat", at=madrid(2026, 11, 25, 10))
    refreshed(madrid(2026, 11, 25, 10, 1))  # the first run ever is a rebuild

    with time_machine.travel(madrid(2026, 11, 25, 12), tick=False):
        assert refresh_rollups() == 1

    assert breaches().count() == 1


def test_compliance_counts_cycles_due_in_the_period_that_are_answered_or_overdue(
    sandbox_channel, office_hours, one_hour_for_private_messages, manager
):
    at = madrid(2026, 11, 25, 10)
    answered(sandbox_channel, at=at, after=timedelta(minutes=30))  # met
    answered(sandbox_channel, at=at, after=timedelta(minutes=90))  # late
    citizen_writes(sandbox_channel, thread_key="overdue", at=at)  # overdue, unanswered
    thanks = citizen_writes(sandbox_channel, "Gracias", thread_key="thanks", at=at).conversation
    # Closed as needing no reply: not counted.
    closed(thanks, by=manager, at=at + timedelta(minutes=5), resolution=Resolution.NO_REPLY_NEEDED)
    citizen_writes(sandbox_channel, thread_key="not-yet", at=madrid(2026, 11, 25, 16, 45))  # due tomorrow
    now = madrid(2026, 11, 25, 17)
    refreshed(now)

    result = report(date(2026, 11, 25), date(2026, 11, 25), now=now)

    private = next(row for row in result.sla if row.conversation_kind == InboundKind.PRIVATE_MESSAGE)
    assert (private.target_business_seconds, private.total) == (ONE_HOUR, 3)
    assert (private.met, private.breached) == (1, 2)
    assert private.compliance == pytest.approx(1 / 3)
    assert result.sla_breaches_total == 2
    late_seconds = sorted(breach.late_seconds for breach in result.sla_breaches)
    assert late_seconds == [30 * 60, (now - (at + timedelta(hours=1))).total_seconds()]
    assert [breach.answered_at is None for breach in result.sla_breaches].count(True) == 1
    # The other kinds have targets too, and nothing due.
    assert {row.conversation_kind for row in result.sla} == set(InboundKind.values)


def test_an_inactive_target_has_no_row_and_no_due_times(sandbox_channel, office_hours, db):
    SlaTarget.objects.filter(conversation_kind=InboundKind.PRIVATE_MESSAGE).update(is_active=False)
    citizen_writes(sandbox_channel, thread_key="no-target", at=madrid(2026, 11, 25, 10))
    now = madrid(2026, 11, 26, 10)
    refreshed(now)

    result = report(date(2026, 11, 25), date(2026, 11, 25), now=now)

    assert InboundKind.PRIVATE_MESSAGE not in {row.conversation_kind for row in result.sla}
    assert CareCycleFact.objects.get().sla_due_at is None


def test_changing_a_target_measures_due_times_again(
    sandbox_channel, office_hours, django_capture_on_commit_callbacks
):
    written = madrid(2026, 11, 25, 10)
    citizen_writes(sandbox_channel, thread_key="again", at=written)
    refreshed(madrid(2026, 11, 26, 10))
    # Seven business hours from 10:00: closing time.
    assert CareCycleFact.objects.get().sla_due_at == madrid(2026, 11, 25, 17)

    target = SlaTarget.objects.get(conversation_kind=InboundKind.PRIVATE_MESSAGE)
    target.business_seconds = 2 * ONE_HOUR
    with django_capture_on_commit_callbacks(execute=True):
        sla_target_save(target=target)

    assert CareCycleFact.objects.get().sla_due_at == madrid(2026, 11, 25, 12)


# --- Who sets the targets ------------------------------------------------------------------------


@pytest.fixture
def administrator_client(client, administrator):
    user_set_role(user=administrator, role=Role.ADMINISTRATOR, by=administrator)
    client.force_login(administrator)
    return client


def test_the_administrator_sets_a_target_in_the_admin_and_the_change_is_audited(
    administrator_client, administrator, django_capture_on_commit_callbacks
):
    target = SlaTarget.objects.get(conversation_kind=InboundKind.MENTION)
    url = reverse("admin:metrics_slatarget_change", args=[target.pk])
    assert administrator_client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = administrator_client.post(url, {"business_seconds": 7200, "is_active": "on"})

    assert response.status_code == 302
    assert SlaTarget.objects.get(pk=target.pk).business_seconds == 7200
    event = AuditEvent.objects.get(action=AuditAction.SLA_TARGET_CHANGED)
    assert (event.actor, event.target_id) == (administrator, str(target.pk))
    assert event.details == {
        "kind": InboundKind.MENTION,
        "before": {"business_seconds": 4 * 3600, "is_active": True},
        "after": {"business_seconds": 7200, "is_active": True},
    }

    with django_capture_on_commit_callbacks(execute=True):
        administrator_client.post(url, {"business_seconds": 7200, "is_active": "on"})
    assert AuditEvent.objects.filter(action=AuditAction.SLA_TARGET_CHANGED).count() == 1  # nothing changed


@pytest.mark.parametrize("who", ["supervisor", "manager"])
def test_a_supervisor_or_manager_cannot_change_a_target(db, client, request, who):
    client.force_login(request.getfixturevalue(who))
    target = SlaTarget.objects.get(conversation_kind=InboundKind.MENTION)
    url = reverse("admin:metrics_slatarget_change", args=[target.pk])

    assert client.get(url).status_code == 302
    response = client.post(url, {"business_seconds": 60, "is_active": "on"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert SlaTarget.objects.get(pk=target.pk).business_seconds == 4 * 3600
