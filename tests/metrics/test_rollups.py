"""The rollups: an incremental refresh gives exactly what a full rebuild gives, picks up every kind
of change (new events, late messages, spam, hidden comments), and does nothing when nothing
changed."""

from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbox.models import Resolution
from inbox.services import conversation_close, conversation_mark_spam, message_hide
from metrics.models import (
    CareCycleFact,
    DailyRollup,
    DailySla,
    HourlyTraffic,
    RollupState,
    TimingFact,
    TimingHistogram,
)
from metrics.rollups import BUCKETS_PER_E, duration_bucket, rollups_rebuild, rollups_refresh
from metrics.sla import sla_breaches_record
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network
from tests.metrics.helpers import hidden_comment, madrid, report

MONDAY = madrid(2026, 11, 23, 10)


def snapshot() -> dict[str, list[tuple]]:
    """Every rollup row, without ids, in a stable order."""
    tables = {}
    for model in (CareCycleFact, TimingFact, TimingHistogram, DailyRollup, DailySla, HourlyTraffic):
        fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
        rows = model.objects.values_list(*fields)
        tables[model.__name__] = sorted(rows, key=lambda row: tuple(str(value) for value in row))
    return tables


@pytest.fixture
def clock(time_machine):
    """Moves the desk's clock; the refresh runs at the desk's now, as the beat task does."""

    def move_to(moment):
        time_machine.move_to(moment, tick=False)
        return moment

    return move_to


def refresh():
    return rollups_refresh(now=timezone.now())


def test_refreshing_step_by_step_gives_what_a_rebuild_gives(
    sandbox_channel, sandbox_account, office_hours, manager, clock
):
    clock(MONDAY - timedelta(hours=1))
    refresh()  # the first run ever: a rebuild of nothing
    clock(MONDAY)
    ana = citizen_writes(sandbox_channel, thread_key="ana", at=MONDAY).conversation
    citizen_writes(sandbox_channel, thread_key="bea", at=MONDAY)
    carla = citizen_writes(sandbox_channel, thread_key="carla", at=MONDAY).conversation
    refresh()

    clock(MONDAY + timedelta(minutes=30))
    we_answer_on_the_network(sandbox_channel, thread_key="ana", at=MONDAY + timedelta(minutes=30))
    citizen_writes(sandbox_channel, "¿Y mañana?", thread_key="ana", at=MONDAY + timedelta(minutes=40))
    we_answer_on_the_network(sandbox_channel, thread_key="bea", at=MONDAY + timedelta(minutes=30))
    conversation_close(conversation=carla, actor=manager, resolution=Resolution.NO_REPLY_NEEDED)
    refresh()

    clock(MONDAY + timedelta(days=1))
    we_answer_on_the_network(sandbox_channel, thread_key="ana", at=MONDAY + timedelta(hours=23))
    conversation_close(conversation=ana, actor=manager, resolution=Resolution.REPLIED)
    citizen_writes(sandbox_channel, "Otra duda", thread_key="ana", at=MONDAY + timedelta(days=1))  # reopens
    conversation_mark_spam(conversation=carla, spam=True)
    comment = hidden_comment(sandbox_channel, sandbox_account, at=MONDAY + timedelta(hours=20), by=manager)
    # Polled late: written on Saturday, seen on Tuesday.
    citizen_writes(sandbox_channel, thread_key="late", at=madrid(2026, 11, 21, 12))
    refresh()
    sla_breaches_record(now=timezone.now())
    refresh()

    clock(MONDAY + timedelta(days=2))
    message_hide(message=comment, actor=manager, reason="Error", hidden=False)
    conversation_mark_spam(conversation=carla, spam=False)
    refresh()
    clock(MONDAY + timedelta(days=2, hours=1))
    refresh()
    refreshed_step_by_step = snapshot()

    rollups_rebuild(now=timezone.now())

    assert snapshot() == refreshed_step_by_step
    assert len(refreshed_step_by_step["CareCycleFact"]) == 6  # ana twice, bea, carla, the comment, late
    assert refreshed_step_by_step["TimingHistogram"] and refreshed_step_by_step["DailySla"]


def test_a_refresh_with_nothing_new_touches_nothing(sandbox_channel, office_hours, clock):
    clock(MONDAY)
    citizen_writes(sandbox_channel, thread_key="quiet", at=MONDAY)
    rollups_rebuild(now=timezone.now())

    # Rows younger than SETTLE at the rebuild are looked at once more, in case an older one was
    # still being committed; after that, nothing.
    clock(MONDAY + timedelta(hours=1))
    again = refresh()
    clock(MONDAY + timedelta(hours=2))
    summary = refresh()

    assert (again.conversations, again.days) == (1, 1)
    assert (summary.conversations, summary.days, summary.due_days, summary.months) == (0, 0, 0, 0)
    assert RollupState.objects.get().refreshed_at == MONDAY + timedelta(hours=2)


def test_a_refresh_sees_spam_marked_without_any_new_event(sandbox_channel, office_hours, clock):
    clock(MONDAY)
    conversation = citizen_writes(sandbox_channel, thread_key="spam", at=MONDAY).conversation
    refresh()
    assert report(MONDAY.date(), MONDAY.date(), now=MONDAY).response_rate.spam == 0

    clock(MONDAY + timedelta(hours=1))
    conversation_mark_spam(conversation=conversation, spam=True)
    refresh()

    rate = report(MONDAY.date(), MONDAY.date(), now=MONDAY).response_rate
    assert (rate.spam, rate.needing_reply) == (1, 0)


def test_a_late_message_updates_the_traffic_of_its_own_day(sandbox_channel, office_hours, clock):
    clock(MONDAY)
    refresh()
    saturday = madrid(2026, 11, 21, 12)

    citizen_writes(sandbox_channel, thread_key="late", at=saturday)
    refresh()

    day = DailyRollup.objects.get()
    assert (day.day, day.messages, day.off_hours_messages, day.cycles_opened) == (date(2026, 11, 21), 1, 1, 1)
    assert HourlyTraffic.objects.get().hour == 12


def test_no_refresh_while_a_rebuild_runs(sandbox_channel, office_hours, clock):
    clock(MONDAY)
    refresh()
    citizen_writes(sandbox_channel, thread_key="wait", at=MONDAY)
    RollupState.objects.update(rebuilding_since=MONDAY)

    assert refresh() is None
    assert sla_breaches_record(now=MONDAY + timedelta(days=3)) == 0
    assert not CareCycleFact.objects.exists()


def test_one_rebuild_at_a_time(sandbox_channel, office_hours):
    RollupState.objects.update_or_create(pk=1, defaults={"rebuilding_since": timezone.now()})

    with pytest.raises(CommandError, match="Another rebuild is running"):
        call_command("rebuild_rollups")
    # One that started long ago has died: a new one goes ahead.
    RollupState.objects.update(rebuilding_since=timezone.now() - timedelta(hours=3))
    call_command("rebuild_rollups")
    assert RollupState.objects.get().rebuilding_since is None


def test_the_rebuild_command_says_how_far_it_got(sandbox_channel, office_hours, capsys):
    citizen_writes(sandbox_channel, thread_key="command", at=MONDAY)

    call_command("rebuild_rollups")

    output = capsys.readouterr().out
    assert "facts: 1/1" in output and "daily: 1/1" in output and "Rollups rebuilt" in output
    assert CareCycleFact.objects.count() == 1
    assert RollupState.objects.get().rebuilt_at is not None


def test_duration_buckets_are_ordered_and_about_five_percent_wide():
    assert duration_bucket(0) == duration_bucket(0.5) == 0
    durations = [1, 2, 59, 60, 61, 3600, 86_400, 10**7]
    buckets = [duration_bucket(seconds) for seconds in durations]
    assert buckets == sorted(buckets)
    # Spans a factor e apart are BUCKETS_PER_E buckets apart.
    assert duration_bucket(1000 * 2.718281828459045) - duration_bucket(1000) == BUCKETS_PER_E


def test_beat_refreshes_the_rollups_every_few_minutes():
    from metrics import tasks  # noqa: F401 - registers the tasks, as the worker's autodiscovery does
    from socialdesk.beat import BEAT_SCHEDULE, ROLLUPS_REFRESH_SECONDS
    from socialdesk.celery import app

    entry = next(
        entry for entry in BEAT_SCHEDULE.values() if entry["task"] == "metrics.tasks.refresh_rollups"
    )
    assert entry["schedule"] == ROLLUPS_REFRESH_SECONDS <= 5 * 60
    assert "metrics.tasks.refresh_rollups" in app.tasks
