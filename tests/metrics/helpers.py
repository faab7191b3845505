"""Hand-built timelines for the metrics tests: a citizen writes, the desk answers (on the network
or from SocialDesk, by a person or an automation), the manager closes; then the rollups catch up
and the report is read, as the dashboard reads it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from inbox.models import Conversation, Message, Resolution
from inbox.services import conversation_close, message_hide
from metrics.models import ReportingEvent, ReportingEventKind
from metrics.report_types import Filters, Report
from metrics.reports import report_build
from metrics.rollups import rollups_rebuild, rollups_refresh
from networks.base import InboundKind
from networks.models import SandboxEvent
from tests.inbox.helpers import citizen_writes, we_answer_on_the_network

MADRID = ZoneInfo("Europe/Madrid")
_threads = iter(range(1, 10**9))


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """A Europe/Madrid wall-clock time, as an aware datetime in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=MADRID).astimezone(UTC)


def new_thread() -> str:
    return f"thread-{next(_threads)}"


def answered(
    channel, *, at: datetime, after: timedelta, thread_key: str | None = None, **more
) -> Conversation:
    """A citizen writes at `at`; a person answers `after` later, from the network's own app."""
    thread_key = thread_key or new_thread()
    conversation = citizen_writes(channel, thread_key=thread_key, at=at, **more).conversation
    we_answer_on_the_network(channel, thread_key=thread_key, at=at + after)
    return conversation


def closed(conversation: Conversation, *, by, at: datetime, resolution: Resolution = Resolution.REPLIED):
    with time_machine.travel(at, tick=False):
        return conversation_close(conversation=conversation, actor=by, resolution=resolution)


def hidden_comment(channel, account, *, at: datetime, by) -> Message:
    """A citizen's public comment, on the sandbox network too, hidden by the manager."""
    message = citizen_writes(channel, "…", thread_key=new_thread(), kind=InboundKind.PUBLIC_COMMENT, at=at)
    SandboxEvent.objects.create(
        account=account,
        external_id=message.external_id,
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key=message.conversation.thread_key,
        author_id="citizen-1",
        author_name="Lucía Moreno",
        author_handle="lucia",
        text=message.text,
    )
    return message_hide(message=message, actor=by, reason="Insultos")


def refreshed(now: datetime) -> None:
    """The beat's refresh, at `now` (the first one ever is a rebuild)."""
    rollups_refresh(now=now)


def rebuilt(now: datetime) -> None:
    rollups_rebuild(now=now)


def report(start: date, end: date, *, now: datetime, compare: bool = False, **filters) -> Report:
    return report_build(Filters(start=start, end=end, **filters), now=now, compare=compare)


_conversation_ids = iter(range(10**6, 10**9))


def measured_cycle(
    *,
    written: datetime,
    answered_after: float,
    channel_id: int = 1,
    network: str = "sandbox",
    in_office: bool = True,
) -> int:
    """A care cycle written straight as reporting events (no conversation behind them): opened at
    `written`, first response and reply `answered_after` seconds later, business time = wall time.
    For figures over many months, where going through the inbox would be slow."""
    conversation_id = next(_conversation_ids)
    common = {
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "network": network,
        "conversation_kind": InboundKind.PRIVATE_MESSAGE,
        "cycle": 1,
        "source": "network",
    }
    answered_at = written + timedelta(seconds=answered_after)
    ReportingEvent.objects.create(
        kind=ReportingEventKind.OPENED, occurred_at=written, in_office_hours=in_office, **common
    )
    for kind in (ReportingEventKind.FIRST_RESPONSE, ReportingEventKind.REPLY):
        ReportingEvent.objects.create(
            kind=kind,
            occurred_at=answered_at,
            started_at=written,
            wall_seconds=answered_after,
            business_seconds=answered_after,
            in_office_hours=in_office,
            started_in_office_hours=in_office,
            **common,
        )
    return conversation_id
