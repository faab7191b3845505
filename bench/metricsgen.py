"""A made-up desk for the metrics benchmark: three years of citizens writing on eight channels, the
desk answering, closing and being written to again, plus the posts it published.

Each conversation is played out by the rules inbox.services follows, and writes the rows inbox would
have written: its messages, its reporting events (opened, first response, reply, resolved, reopened,
and the SLA breaches metrics.sla would have recorded), and its final state. So the rollups built
from these rows are the ones a real desk of this size would have. Times follow the office calendar
(socialdesk.demo's hours, Comunitat Valenciana holidays): more citizens write in the daytime, the
desk answers in business time, sometimes from the phone off-hours.

Rows are plain tuples, made ``CHUNK`` conversations at a time and loaded with metrics.rollups'
``rows_insert`` (COPY on PostgreSQL). The same seed makes the same desk.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max

from inbox.models import Conversation, ConversationStatus, Message, MessageDirection, Resolution, Tag
from metrics.models import ReportingEvent, ReportingEventKind
from metrics.rollups import rows_insert
from metrics.sla import DEFAULT_TARGETS
from networks.base import InboundKind
from networks.models import Channel, ChannelStatus, Network
from scheduling.models import AudienceSegment, Delivery, DeliveryMetrics, DeliveryState, Post, PostStatus
from socialdesk.business_calendar import BusinessCalendar, business_calendar
from socialdesk.demo import DEFAULT_WORKING_HOURS
from socialdesk.models import WorkingInterval

MADRID = ZoneInfo("Europe/Madrid")
# The desk's "now": a Friday noon, well in the past so that every row has settled.
END = datetime(2026, 11, 27, 12, 0, tzinfo=MADRID).astimezone(UTC)
CHUNK = 20_000

# name, network, share of conversations, kinds it brings (weights)
CHANNELS = [
    ("Empleo Facebook", Network.FACEBOOK, 0.30, {"public_comment": 6, "mention": 1, "private_message": 3}),
    ("Formación Facebook", Network.FACEBOOK, 0.10, {"public_comment": 6, "mention": 1, "private_message": 3}),
    ("Empleo Instagram", Network.INSTAGRAM, 0.20, {"public_comment": 6, "mention": 2, "private_message": 2}),
    ("Empleo X", Network.X, 0.15, {"public_comment": 3, "mention": 5, "private_message": 2}),
    ("Empleo LinkedIn", Network.LINKEDIN, 0.05, {"public_comment": 8, "mention": 2}),
    ("Empleo YouTube", Network.YOUTUBE, 0.05, {"public_comment": 1}),
    ("Empleo Mastodon", Network.MASTODON, 0.08, {"public_comment": 4, "mention": 4, "private_message": 2}),
    ("Empleo Bluesky", Network.BLUESKY, 0.07, {"public_comment": 4, "mention": 4, "private_message": 2}),
]
TAGS = ["cita previa", "prestaciones", "cursos", "ofertas", "queja", "certificados", "empresas", "otros"]
# When citizens write, by local hour (weekends write 60 % as much).
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 4, 6, 7, 7, 6, 5, 4, 4, 4, 5, 6, 7, 7, 6, 4, 2]

SPAM_SHARE = 0.02
HIDDEN_SHARE = 0.03  # of public comments
UNANSWERED_SHARE = 0.08
AUTOMATED_ACK_SHARE = 0.05
FROM_NETWORK_SHARE = 0.3  # answers written in the network's own app
PHONE_ANSWER_SHARE = 0.25  # answers in wall-clock time (the manager's phone), off-hours too
FOLLOW_UP_SHARE = 0.45  # the citizen writes again after an answer
SECOND_MESSAGE_SHARE = 0.3  # a second message before the answer
REOPEN_SHARE = 0.25
NO_REPLY_NEEDED_SHARE = 0.6  # of unanswered cycles, closed as needing none
FORGOTTEN_SHARE = 0.03  # of the other unanswered cycles: never closed (the rest are, days later)
RECENT = timedelta(days=14)  # unanswered cycles this close to the end are still waiting

CONVERSATION_FIELDS = (
    "id", "channel_id", "thread_key", "kind", "about_post", "status", "needs_reply", "resolution",
    "closed_at", "spam", "cycle", "cycle_started_at", "cycle_first_response_at", "awaiting_since",
    "last_message_at", "last_inbound_at", "last_outbound_at", "created_at", "updated_at", "preview",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "channel_id", "external_id", "conversation_id", "direction", "text", "created_at", "received_at",
    "automated", "hidden",
)  # fmt: skip
EVENT_FIELDS = (
    "kind", "occurred_at", "conversation_id", "channel_id", "network", "conversation_kind", "cycle",
    "started_at", "wall_seconds", "business_seconds", "in_office_hours", "started_in_office_hours",
    "source", "details", "recorded_at",
)  # fmt: skip
TAG_FIELDS = ("conversation_id", "tag_id")


@dataclass(frozen=True)
class DeskChannel:
    pk: int
    network: str
    share: float
    kinds: dict[str, float]


@dataclass(frozen=True)
class Desk:
    channels: list[DeskChannel]
    tag_ids: list[int]
    calendar: BusinessCalendar
    end: datetime
    days: int


@dataclass
class DeskChunk:
    conversations: list[tuple] = field(default_factory=list)
    messages: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)


def desk_setup(*, end: datetime = END, days: int = 3 * 365) -> Desk:
    """Office hours, channels and tags (in the database), and the calendar they make."""
    if not WorkingInterval.objects.exists():
        WorkingInterval.objects.bulk_create(
            WorkingInterval(weekday=weekday, starts_at=start, ends_at=stop)
            for weekday, start, stop in DEFAULT_WORKING_HOURS
        )
    channels = []
    for position, (name, network, share, kinds) in enumerate(CHANNELS):
        channel, _created = Channel.objects.get_or_create(
            network=network,
            account_id=f"bench-{position}",
            defaults={"display_name": name, "handle": f"bench{position}", "status": ChannelStatus.ACTIVE},
        )
        channels.append(DeskChannel(channel.pk, network, share, kinds))
    tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    return Desk(channels=channels, tag_ids=tag_ids, calendar=business_calendar(), end=end, days=days)


def desk_generate(desk: Desk, *, conversations: int, seed: int, chunk: int = CHUNK) -> Iterator[DeskChunk]:
    """`conversations` conversations started over the desk's days, in order of their start,
    `chunk` at a time. Ids continue after those already in the database."""
    rng = random.Random(seed)
    ids = _Ids(
        conversation=(Conversation.objects.aggregate(top=Max("pk"))["top"] or 0) + 1,
        message=(Message.objects.aggregate(top=Max("pk"))["top"] or 0) + 1,
    )
    starts = sorted(_start_times(rng, desk, conversations))
    for first in range(0, conversations, chunk):
        generated = DeskChunk()
        for started_at in starts[first : first + chunk]:
            _Conversation(desk, rng, ids, generated, started_at).play()
        yield generated


def desk_load(chunk: DeskChunk) -> None:
    now = END
    rows_insert(Conversation, *_complete(Conversation, CONVERSATION_FIELDS, chunk.conversations, now=now))
    rows_insert(Message, *_complete(Message, MESSAGE_FIELDS, chunk.messages, now=now))
    rows_insert(ReportingEvent, *_complete(ReportingEvent, EVENT_FIELDS, chunk.events, now=now))
    rows_insert(Conversation.tags.through, TAG_FIELDS, chunk.tags)


def sequences_reset() -> None:
    """Rows came with their own ids: the tables' id sequences continue after them."""
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), [Conversation, Message])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def deliveries_generate(desk: Desk, *, seed: int, per_working_day: int = 3) -> int:
    """Posts published on working days over the desk's days, each on three channels, half of them
    echoed off-hours, with engagement figures. Returns how many deliveries."""
    rng = random.Random(seed + 1)
    segments = list(AudienceSegment.objects.all()) or [None]
    calendar = desk.calendar
    day = (desk.end - timedelta(days=desk.days)).astimezone(MADRID).date()
    last = desk.end.astimezone(MADRID).date()
    deliveries: list[Delivery] = []
    while day < last:
        opening = calendar.next_working_start(datetime.combine(day, datetime.min.time(), tzinfo=MADRID))
        if opening is not None and opening.astimezone(MADRID).date() == day:
            for _ in range(per_working_day):
                at = opening + timedelta(minutes=rng.randint(0, 6 * 60))
                post = Post.objects.create(
                    text=f"Oferta {day} {rng.random():.6f}",
                    segment=rng.choice(segments),
                    status=PostStatus.SCHEDULED,
                    created_at=at - timedelta(hours=1),
                )
                for channel in rng.sample(desk.channels, 3):
                    live = _published(post, channel, at)
                    deliveries.append(live)
                    if rng.random() < 0.5:
                        deliveries.append(
                            _published(post, channel, at + timedelta(hours=rng.randint(6, 30)), echo=live)
                        )
        day += timedelta(days=1)
    # The live deliveries first: each echo points to its live one.
    Delivery.objects.bulk_create([d for d in deliveries if not d.is_echo], batch_size=2000)
    for delivery in deliveries:
        if delivery.is_echo:
            delivery.echo_of_id = delivery.echo_of.pk
    Delivery.objects.bulk_create([d for d in deliveries if d.is_echo], batch_size=2000)
    DeliveryMetrics.objects.bulk_create(
        [
            DeliveryMetrics(
                delivery=delivery,
                likes=likes,
                shares=shares,
                comments=comments,
                clicks=None,
                engagement=likes + shares + comments,
                fetched_at=delivery.published_at + timedelta(days=2),
            )
            for delivery in deliveries
            for likes, shares, comments in [(rng.randint(0, 80), rng.randint(0, 15), rng.randint(0, 10))]
        ],
        batch_size=2000,
    )
    return len(deliveries)


def _published(post: Post, channel: DeskChannel, at: datetime, *, echo: Delivery | None = None) -> Delivery:
    return Delivery(
        post=post,
        channel_id=channel.pk,
        text=post.text,
        scheduled_at=at,
        due_at=at,
        state=DeliveryState.PUBLISHED,
        published_at=at + timedelta(seconds=3),
        is_echo=echo is not None,
        echo_of=echo,
        external_id=f"{channel.pk}-{post.pk}-{at.timestamp():.0f}",
        created_at=at - timedelta(hours=1),
    )


# --- Playing out one conversation ----------------------------------------------------------------


@dataclass
class _Ids:
    conversation: int
    message: int


def _start_times(rng: random.Random, desk: Desk, count: int) -> list[datetime]:
    first_day = (desk.end - timedelta(days=desk.days)).astimezone(MADRID).date()
    hours = list(range(24))
    starts = []
    while len(starts) < count:
        day = first_day + timedelta(days=rng.randrange(desk.days))
        if day.weekday() >= 5 and rng.random() > 0.6:
            continue
        hour = rng.choices(hours, weights=HOUR_WEIGHTS)[0]
        local = datetime(
            day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=MADRID
        )
        at = local.astimezone(UTC)
        if at < desk.end:
            starts.append(at)
    return starts


def _lognormal(rng: random.Random, median_seconds: float, sigma: float) -> timedelta:
    return timedelta(seconds=round(median_seconds * math.exp(rng.gauss(0, sigma))))


class _Conversation:
    """One conversation played out from its first message until the desk's end, writing the rows
    inbox.services would write along the way."""

    def __init__(
        self, desk: Desk, rng: random.Random, ids: _Ids, out: DeskChunk, started_at: datetime
    ) -> None:
        self.desk, self.rng, self.ids, self.out = desk, rng, ids, out
        self.calendar = desk.calendar
        self.pk = ids.conversation
        ids.conversation += 1
        self.channel = rng.choices(desk.channels, weights=[c.share for c in desk.channels])[0]
        self.kind = rng.choices(list(self.channel.kinds), weights=list(self.channel.kinds.values()))[0]
        self.started_at = started_at
        self.spam = rng.random() < SPAM_SHARE
        self.hidden = self.kind == InboundKind.PUBLIC_COMMENT and rng.random() < HIDDEN_SHARE
        self.cycle = 1
        self.cycle_started_at = self.cycle_first_response_at = self.awaiting_since = None
        self.closed_at = None
        self.status, self.resolution = ConversationStatus.OPEN, ""
        self.last_inbound = self.last_outbound = None
        self.target = DEFAULT_TARGETS.get(self.kind)

    def play(self) -> None:
        at: datetime | None = self.started_at
        while at is not None and at < self.desk.end:
            at = self._cycle(at)
        self._write_conversation()
        if self.rng.random() < 0.25:
            for tag_id in self.rng.sample(self.desk.tag_ids, 2 if self.rng.random() < 0.2 else 1):
                self.out.tags.append((self.pk, tag_id))

    def _cycle(self, at: datetime) -> datetime | None:
        """One care cycle from the citizen's message at `at`; returns when the citizen writes
        again after it closed (None: never, or not before the end)."""
        self._citizen_writes(at)
        if self.rng.random() < SECOND_MESSAGE_SHARE:
            at = at + _lognormal(self.rng, 600, 1.0)
            if not self._due(at):
                return None
            self._citizen_writes(at)
        if self.rng.random() < AUTOMATED_ACK_SHARE:
            self._we_write(at + timedelta(seconds=2), automated=True)
        answered = not self.spam and self.rng.random() > UNANSWERED_SHARE
        last = at
        if answered:
            answer = self._answer_time(at)
            if not self._due(answer):
                return None
            self._we_write(answer)
            last = answer
            while self.rng.random() < FOLLOW_UP_SHARE * (0.5 if last is not answer else 1):
                again = last + _lognormal(self.rng, 3 * 3600, 1.2)
                if not self._due(again):
                    return None
                self._citizen_writes(again)
                answer = self._answer_time(again)
                if not self._due(answer):
                    return None
                self._we_write(answer)
                last = answer
            closing = last + _lognormal(self.rng, 4 * 3600, 1.0)
            resolution = Resolution.REPLIED
        elif self.rng.random() < NO_REPLY_NEEDED_SHARE:
            closing = last + _lognormal(self.rng, 3 * 3600, 1.2)
            resolution = Resolution.NO_REPLY_NEEDED
        elif at > self.desk.end - RECENT or self.rng.random() < FORGOTTEN_SHARE:
            return None  # still waiting at the end: recent, or forgotten
        else:
            # Noticed days later by a supervisor's backlog check and closed.
            closing = last + _lognormal(self.rng, 2 * 86400, 0.8)
            resolution = Resolution.NO_REPLY_NEEDED
        if not self._due(closing) or (resolution == Resolution.REPLIED and self.rng.random() > 0.9):
            return None  # left open: answered, but nobody closed it (or not yet)
        self._close(closing, resolution)
        if self.rng.random() < REOPEN_SHARE:
            return closing + _lognormal(self.rng, 2 * 86400, 1.5)
        return None

    def _due(self, at: datetime) -> bool:
        return at < self.desk.end

    def _answer_time(self, at: datetime) -> datetime:
        if self.rng.random() < PHONE_ANSWER_SHARE:
            return at + _lognormal(self.rng, 1800, 1.0)
        answered = self.calendar.add_business_time(at, _lognormal(self.rng, 2400, 1.1))
        return answered or at + timedelta(days=1)

    # --- what inbox.services does ---

    def _message(self, at: datetime, direction: str, *, automated: bool = False) -> None:
        pk = self.ids.message
        self.ids.message += 1
        hidden = self.hidden and direction == MessageDirection.INBOUND
        self.out.messages.append(
            (
                pk,
                self.channel.pk,
                f"m{pk}",
                self.pk,
                direction,
                "Hola",
                at,
                at + timedelta(seconds=5),
                automated,
                hidden,
            )
        )

    def _citizen_writes(self, at: datetime) -> None:
        self._message(at, MessageDirection.INBOUND)
        if self.cycle_started_at is None:
            self.cycle_started_at = at
            self._event(ReportingEventKind.OPENED, at, source="network")
        elif self.status == ConversationStatus.CLOSED:
            self._event(
                ReportingEventKind.REOPENED,
                at,
                started_at=self.closed_at,
                source="network",
                cycle=self.cycle + 1,
            )
            self.cycle += 1
            self.cycle_started_at, self.cycle_first_response_at = at, None
            self.resolution, self.closed_at = "", None
        if self.awaiting_since is None:
            self.awaiting_since = at
        self.status = ConversationStatus.OPEN
        self.last_inbound = at

    def _we_write(self, at: datetime, *, automated: bool = False) -> None:
        self._message(at, MessageDirection.OUTBOUND, automated=automated)
        if automated:
            return
        self.last_outbound = at
        if self.awaiting_since is None or at < self.awaiting_since:
            return
        source = "network" if self.rng.random() < FROM_NETWORK_SHARE else "desk"
        if self.cycle_first_response_at is None:
            self.cycle_first_response_at = at
            self._event(
                ReportingEventKind.FIRST_RESPONSE, at, started_at=self.cycle_started_at, source=source
            )
            self._breach_if_late(answered_at=at)
        self._event(ReportingEventKind.REPLY, at, started_at=self.awaiting_since, source=source)
        self.awaiting_since = None
        self.status = ConversationStatus.WAITING

    def _close(self, at: datetime, resolution: str) -> None:
        if self.cycle_first_response_at is None and resolution == Resolution.REPLIED:
            resolution = Resolution.NO_REPLY_NEEDED
        if self.cycle_first_response_at is None:
            self._breach_if_late(answered_at=None, closed_at=at, resolution=resolution)
        self.status, self.resolution, self.closed_at = ConversationStatus.CLOSED, resolution, at
        self.awaiting_since = None
        self._event(
            ReportingEventKind.RESOLVED,
            at,
            started_at=self.cycle_started_at,
            source="desk",
            details={"resolution": resolution},
        )

    def _breach_if_late(
        self, *, answered_at: datetime | None, closed_at: datetime | None = None, resolution: str = ""
    ) -> None:
        """What metrics.sla's beat task would have written for this cycle by the desk's end."""
        if self.target is None or self.spam or self.hidden or resolution == Resolution.NO_REPLY_NEEDED:
            return
        due = self.calendar.add_business_seconds(self.cycle_started_at, self.target)
        if due is None or due >= self.desk.end or (answered_at is not None and answered_at <= due):
            return
        self._event(
            ReportingEventKind.SLA_BREACHED,
            due,
            started_at=self.cycle_started_at,
            source="system",
            details={"due_at": due.isoformat(), "target_business_seconds": self.target},
        )

    def _event(self, kind, at: datetime, *, started_at=None, source: str, details=None, cycle=None) -> None:
        wall = business = started_in_office = None
        if started_at is not None:
            wall = (at - started_at).total_seconds()
            business = self.calendar.business_seconds_between(started_at, at)
            started_in_office = self.calendar.is_working_time(started_at)
        self.out.events.append(
            (
                kind,
                at,
                self.pk,
                self.channel.pk,
                self.channel.network,
                self.kind,
                cycle or self.cycle,
                started_at,
                wall,
                business,
                self.calendar.is_working_time(at),
                started_in_office,
                source,
                details or {},
                at + timedelta(seconds=1),
            )
        )

    def _write_conversation(self) -> None:
        if self.cycle_first_response_at is None and self.status != ConversationStatus.CLOSED:
            # Still waiting at the desk's end: what the beat task has written by now.
            self._breach_if_late(answered_at=None)
        needs_reply = self.last_inbound is not None and (
            self.last_outbound is None or self.last_inbound > self.last_outbound
        )
        last_message = max(t for t in (self.last_inbound, self.last_outbound) if t is not None)
        self.out.conversations.append(
            (
                self.pk, self.channel.pk, f"t{self.pk}", self.kind, "", self.status, needs_reply, self.resolution,
                self.closed_at, self.spam, self.cycle, self.cycle_started_at, self.cycle_first_response_at,
                self.awaiting_since, last_message, self.last_inbound, self.last_outbound, self.started_at,
                last_message, "Hola",
            )
        )  # fmt: skip


def _complete(
    model, fields: tuple[str, ...], rows: list[tuple], *, now: datetime
) -> tuple[tuple[str, ...], Iterator[tuple]]:
    """The model's every column: those not generated get their field's default (JSON adapted for
    COPY on PostgreSQL), so a column added to inbox later does not break the loader."""
    given = {model._meta.get_field(name).attname for name in fields}
    missing = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in given]
    names = (*fields, *(f.attname for f in missing))
    extra = tuple(_default(f, now) for f in missing)
    json_positions = {
        position
        for position, name in enumerate(names)
        if model._meta.get_field(name).get_internal_type() == "JSONField"
    }
    adapt = connection.vendor == "postgresql" and bool(json_positions)

    def completed() -> Iterator[tuple]:
        for row in rows:
            full = (*row, *extra)
            yield (
                tuple(_jsonb(v) if i in json_positions else v for i, v in enumerate(full)) if adapt else full
            )

    return names, completed()


def _default(model_field, now: datetime):
    if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
        return now
    if model_field.has_default():
        return model_field.get_default()
    if model_field.null:
        return None
    return ""


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)
