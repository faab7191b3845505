"""The desk the browser tests look at: a sandbox channel, citizens' conversations, curated items, an
audience and a scheduled post, made through the services (or the helpers other tests use) that
make them. Nothing is taken from the migrations' seeds: a transactional test before may have
flushed them."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from curation.models import FetchErrorKind, FetchStatus, HiddenReason, Item, Source
from curation.services import source_create, source_mute
from curation.topics import keyword_add, topic_create
from inbox.models import Conversation
from lib.messages import Message
from networks.models import Channel, SandboxAccount
from networks.sandbox import sandbox_citizen_writes
from networks.services import channel_poll
from scheduling.calendar import week_parameter
from scheduling.deliveries import delivery_schedule
from scheduling.models import AudienceSegment, Delivery, Post
from socialdesk.models import User
from tests.curation.items import make_item
from tests.networks.fixtures import make_sandbox_channel

# The sandbox's simulated citizens write this many times (a fixed seed: the same messages each run).
CITIZEN_MESSAGES = 4
HEADLINES = [
    ("Abierto el plazo de los cursos de formación", 30),
    ("Nuevas ayudas a la contratación de jóvenes", 20),
    ("Jornada de puertas abiertas en la oficina de empleo", 10),
]


@dataclass(frozen=True)
class Desk:
    manager: User
    channel: Channel
    conversations: list[Conversation]
    items: list[Item]  # in the reading queue
    hidden_item: Item  # a duplicate, on the hidden page
    delivery: Delivery

    @property
    def delivery_week(self) -> str:
        return week_parameter(timezone.localtime(self.delivery.scheduled_at).date())


def desk_create(*, manager: User) -> Desk:
    account, channel = make_sandbox_channel()
    conversations = _citizens_write(account=account, channel=channel)
    source = source_create(name="Boletín de empleo", url="https://feeds.example.org/empleo.xml")
    items = [
        make_item(
            source, f"item-{number}", title=title, score=score, excerpt=f"{title}: fechas y requisitos."
        )
        for number, (title, score) in enumerate(HEADLINES)
    ]
    hidden_item = _duplicate_elsewhere(items[0])
    _sources_needing_attention()
    _topic_with_words()
    AudienceSegment.objects.get_or_create(slug="job-seekers", defaults={"name": "Personas que buscan empleo"})
    return Desk(
        manager=manager,
        channel=channel,
        conversations=conversations,
        items=items,
        hidden_item=hidden_item,
        delivery=_scheduled_delivery(channel=channel, manager=manager),
    )


def _duplicate_elsewhere(original: Item) -> Item:
    """The same news in a second source: hidden, saying which item it repeats."""
    other = source_create(name="Diario oficial", url="https://boletin.example.org/rss")
    return make_item(
        other,
        "dup-1",
        title=original.title,
        score=original.score,
        hidden_reason=HiddenReason.DUPLICATE,
        duplicate_of=original,
    )


def _sources_needing_attention() -> None:
    """One source whose last fetch failed (its detail stored to be translated) and one muted."""
    failing = source_create(name="Página de cursos", url="https://cursos.example.org/")
    Source.objects.filter(pk=failing.pk).update(
        last_fetch_at=timezone.now(),
        last_status=FetchStatus.ERROR,
        last_error_kind=FetchErrorKind.BAD_LISTING,
        last_error_detail="The listing has no column “titulo”.",
        last_error_message=Message("The listing has no column “%(column)s”.", {"column": "titulo"}).as_json(),
        consecutive_errors=3,
    )
    noisy = source_create(name="Agenda cultural", url="https://agenda.example.org/feed")
    source_mute(source=noisy, reason="Nada sobre empleo")


def _topic_with_words() -> None:
    topic = topic_create(name="Empleo", hashtags="#Empleo #Ocupació")
    keyword_add(topic=topic, phrase="oferta de empleo", weight=5, is_exclusion=False)
    keyword_add(topic=topic, phrase="paro cardíaco", weight=1, is_exclusion=True)
    topic_create(name="Vivienda", is_active=False)


def _citizens_write(*, account: SandboxAccount, channel: Channel) -> list[Conversation]:
    """Messages written on the sandbox network and polled in, so the network knows the threads the
    desk answers."""
    rng = random.Random(20260401)
    events = [sandbox_citizen_writes(account=account, rng=rng) for _ in range(CITIZEN_MESSAGES)]
    channel_poll(channel=channel)
    external_ids = [event.external_id for event in events]
    return list(Conversation.objects.filter(messages__external_id__in=external_ids).distinct().order_by("pk"))


def _scheduled_delivery(*, channel: Channel, manager: User) -> Delivery:
    post = Post.objects.create(text="Cursos de formación para el empleo", created_by=manager)
    at = datetime.combine(
        keyboard_safe_day(timezone.localdate()), time(10, 0), tzinfo=timezone.get_current_timezone()
    )
    return delivery_schedule(post=post, channel=channel, text="Abierta la inscripción en los cursos.", at=at)


def keyboard_safe_day(today: date) -> date:
    """A day at least two days ahead whose day and month can each go one up with the arrow key of a
    date field without wrapping round into the past: the 10th of a month other than December."""
    day = today + timedelta(days=2)
    while day.day != 10 or day.month == 12:
        day += timedelta(days=1)
    return day
