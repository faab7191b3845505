"""E-mail for people away from the desk: an alert for each priority message that arrives outside
working hours, and a daily digest of what is waiting.

Who gets them: users who can read the desk (managers, and supervisors who want to know) and opted in
on their alerts page (inbox.AlertPreference), at the address there or else their account's.

What an e-mail carries: it leaves the desk's systems, so only what lets the reader judge whether to
act — the citizen's first name, the network, at most EXCERPT_LENGTH characters of the message and a
link to the conversation (which asks to sign in). Links are absolute when SOCIALDESK_PUBLIC_URL is
set, a bare path otherwise.

Language: users have no stored language, so e-mails are written in the site's default language
(settings.LANGUAGE_CODE, Spanish) and times in SOCIALDESK_BUSINESS_TIME_ZONE. A per-user language
would only change the `translation.override` in `_site_language`.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext, gettext_lazy, ngettext_lazy

from inbox.models import AlertPreference, Conversation, ConversationStatus, Message, MessageDirection
from inbox.priority import REPEATED_WEIGHT
from socialdesk.access import Capability, user_can
from socialdesk.business_calendar import BusinessCalendar, business_calendar

# A conversation this urgent is worth an e-mail at night: one complaint or urgent word (seeded with
# weights 15 to 30), or a citizen who wrote three times without an answer (2 × REPEATED_WEIGHT).
PRIORITY_ALERT_THRESHOLD = 2 * REPEATED_WEIGHT
# However many priority messages a conversation gets, its alert goes out at most this often: a
# citizen writing five angry messages in a row is one thing to know, not five.
ALERT_INTERVAL = timedelta(hours=1)
# A message already this old when it reaches the desk (the first poll of a channel looks days back,
# a channel reconnected after a weekend) is news for the digest, not for an alert.
ALERT_FRESHNESS = timedelta(hours=2)
# The digest goes out every day, weekends included, at this local time: before the office opens.
DIGEST_AT = time(8, 0)
# How much of a citizen's message an e-mail shows, and how many conversations each list names.
EXCERPT_LENGTH = 200
DIGEST_LIST_LIMIT = 10
# A digest that has not gone out for long (turned off, then on again) looks back this far at most.
DIGEST_LOOKBACK = timedelta(days=7)
# Digests sent by one run at most; a larger desk is finished by the next runs.
DIGEST_BATCH = 100


# --- Who, where, in which words -------------------------------------------------------------------


def _address(preference: AlertPreference) -> str:
    return preference.email or preference.user.email


def _recipients(preferences: Iterable[AlertPreference]) -> list[str]:
    """The addresses of users who still read the desk and have somewhere to be written to."""
    return [
        _address(preference)
        for preference in preferences
        if preference.user.is_active
        and user_can(preference.user, Capability.READ_DESK)
        and _address(preference)
    ]


def _link(path: str) -> str:
    return settings.SOCIALDESK_PUBLIC_URL + path


def _conversation_link(conversation_id: int) -> str:
    return _link(reverse("inbox:conversation", args=[conversation_id]))


def _first_name(conversation: Conversation) -> str:
    words = (conversation.contact.display_name if conversation.contact else "").split()
    return words[0] if words else gettext("A citizen")


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(EXCERPT_LENGTH)


@contextmanager
def _site_language() -> Iterator[None]:
    with (
        translation.override(settings.LANGUAGE_CODE),
        timezone.override(ZoneInfo(settings.SOCIALDESK_BUSINESS_TIME_ZONE)),
    ):
        yield


def _mail(*, template: str, subject: str, context: dict, to: list[str]) -> None:
    """One e-mail per address, so nobody sees who else gets it. Call within _site_language()."""
    body = render_to_string(template, context)
    get_connection().send_messages(
        [EmailMessage(subject=subject % context, body=body, to=[address]) for address in to]
    )


# --- Priority messages outside working hours ----------------------------------------------------


ALERT_SUBJECT = gettext_lazy("[SocialDesk] Priority message from %(first_name)s on %(network)s")


def _priority_pending(message: Message) -> bool:
    """A citizen's message in a priority conversation that still waits for us."""
    conversation = message.conversation
    return (
        message.direction == MessageDirection.INBOUND
        and not message.deleted
        and not message.automated
        and not conversation.spam
        and conversation.needs_reply
        and conversation.priority >= PRIORITY_ALERT_THRESHOLD
    )


def alerts_priority_notify(message: Message) -> bool:
    """Called by ingest for each new message, inside its transaction: for a citizen's fresh
    priority message written outside working hours, when someone wants to know, queue an alert
    for after the commit (mail is never sent inside the ingest). Returns whether one was queued."""
    from inbox.tasks import send_priority_alert

    if not _priority_pending(message) or timezone.now() - message.created_at > ALERT_FRESHNESS:
        return False
    if not AlertPreference.objects.filter(priority_off_hours=True).exists():
        return False
    if business_calendar().is_working_time(message.created_at):
        return False
    send_priority_alert.delay_on_commit(message.pk)
    return True


def _alert_claim(conversation_id: int) -> bool:
    """The conversation's one alert for the coming ALERT_INTERVAL; False when it was taken.
    `cache.add` is atomic in the shared cache (Redis, or the embedded setup's file cache)."""
    return cache.add(_alert_key(conversation_id), True, timeout=ALERT_INTERVAL.total_seconds())


def _alert_key(conversation_id: int) -> str:
    return f"inbox:priority-alert:{conversation_id}"


def alert_priority_send(*, message_id: int) -> int:
    """E-mail a priority message to everyone who asked for off-hours alerts, unless its
    conversation had one within ALERT_INTERVAL or no longer needs it (answered meanwhile, marked
    as spam). Returns how many e-mails went out."""
    message = (
        Message.objects.select_related("conversation__channel", "conversation__contact")
        .filter(pk=message_id)
        .first()
    )
    if message is None or not _priority_pending(message):
        return 0
    preferences = (
        AlertPreference.objects.filter(priority_off_hours=True).select_related("user").order_by("pk")
    )
    recipients = _recipients(preferences)
    if not recipients or not _alert_claim(message.conversation_id):
        return 0
    conversation = message.conversation
    try:
        with _site_language():
            context = {
                "first_name": _first_name(conversation),
                "network": conversation.channel.get_network_display(),
                "excerpt": _excerpt(message.text),
                "written_at": message.created_at,
                "reasons": conversation.priority_explained(),
                "link": _conversation_link(conversation.pk),
            }
            _mail(template="email/inbox_alert.txt", subject=ALERT_SUBJECT, context=context, to=recipients)
    except Exception:
        # Not sent: the next priority message of the conversation may try again.
        cache.delete(_alert_key(message.conversation_id))
        raise
    return len(recipients)


# --- Daily digest --------------------------------------------------------------------------------

DIGEST_SUBJECT = ngettext_lazy(
    "[SocialDesk] Daily digest: %(needing_reply)s conversation needs a reply",
    "[SocialDesk] Daily digest: %(needing_reply)s conversations need a reply",
    "needing_reply",
)


@dataclass(frozen=True)
class DigestItem:
    first_name: str
    network: str
    excerpt: str
    at: datetime | None
    link: str


@dataclass(frozen=True)
class Digest:
    needing_reply: int
    oldest_waiting: list[DigestItem]
    priority: list[DigestItem]
    off_hours_count: int
    off_hours: list[DigestItem]
    since: datetime


def digest_slot(now: datetime) -> datetime:
    """The latest DIGEST_AT (local time) at or before `now`: a digest is due when none went out since."""
    zone = ZoneInfo(settings.SOCIALDESK_BUSINESS_TIME_ZONE)
    today = now.astimezone(zone).date()
    slot = datetime.combine(today, DIGEST_AT, tzinfo=zone)
    return slot if slot <= now else datetime.combine(today - timedelta(days=1), DIGEST_AT, tzinfo=zone)


def _item(conversation: Conversation, text: str, at: datetime | None) -> DigestItem:
    return DigestItem(
        first_name=_first_name(conversation),
        network=conversation.channel.get_network_display(),
        excerpt=_excerpt(text),
        at=at,
        link=_conversation_link(conversation.pk),
    )


def digest_build(*, since: datetime, now: datetime, calendar: BusinessCalendar) -> Digest:
    """What waits for an answer now, and what citizens wrote outside working hours in [since, now)."""
    waiting = Conversation.objects.filter(status=ConversationStatus.OPEN, needs_reply=True, spam=False)
    listed = waiting.select_related("channel", "contact")
    oldest = listed.filter(awaiting_since__isnull=False).order_by("awaiting_since", "pk")
    urgent = listed.filter(priority__gte=PRIORITY_ALERT_THRESHOLD).order_by(
        "-priority", "awaiting_since", "pk"
    )
    written = (
        Message.objects.filter(
            direction=MessageDirection.INBOUND,
            deleted=False,
            conversation__spam=False,
            created_at__gte=since,
            created_at__lt=now,
        )
        .select_related("conversation__channel", "conversation__contact")
        .order_by("created_at", "pk")
    )
    off_hours = [message for message in written if not calendar.is_working_time(message.created_at)]
    return Digest(
        needing_reply=waiting.count(),
        oldest_waiting=[_item(c, c.preview, c.awaiting_since) for c in oldest[:DIGEST_LIST_LIMIT]],
        priority=[_item(c, c.preview, c.awaiting_since) for c in urgent[:DIGEST_LIST_LIMIT]],
        off_hours_count=len(off_hours),
        off_hours=[_item(m.conversation, m.text, m.created_at) for m in off_hours[:DIGEST_LIST_LIMIT]],
        since=since,
    )


def digests_send(*, now: datetime) -> int:
    """Send the digests due at `now` (none sent since the latest DIGEST_AT). Each is claimed with
    its row locked and marked sent in the same transaction, so two runs at once never send one
    twice. Returns how many went out."""
    due = Q(daily_digest=True) & (Q(last_digest_at__isnull=True) | Q(last_digest_at__lt=digest_slot(now)))
    candidates = list(
        AlertPreference.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:DIGEST_BATCH]
    )
    if not candidates:
        return 0
    calendar = business_calendar()
    return sum(_digest_send_one(pk, due=due, now=now, calendar=calendar) for pk in candidates)


def _digest_send_one(pk: int, *, due: Q, now: datetime, calendar: BusinessCalendar) -> int:
    with transaction.atomic():
        # A row another run holds is that run's to send (skip_locked); the filter is read again
        # under the lock, so a digest another run committed meanwhile is no longer due.
        preference = (
            AlertPreference.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(due, pk=pk)
            .first()
        )
        recipients = _recipients([preference]) if preference else []
        if not recipients:
            return 0
        since = max(preference.last_digest_at or now - timedelta(days=1), now - DIGEST_LOOKBACK)
        with _site_language():
            digest = digest_build(since=since, now=now, calendar=calendar)
            context = {
                "digest": digest,
                "needing_reply": digest.needing_reply,
                "queue_link": _link(reverse("inbox:queue")),
            }
            _mail(template="email/inbox_digest.txt", subject=DIGEST_SUBJECT, context=context, to=recipients)
        preference.last_digest_at = now
        preference.save(update_fields=["last_digest_at"])
    return 1


# --- Preferences ---------------------------------------------------------------------------------


def alert_preference_of(user) -> AlertPreference:
    """The user's choices, or unsaved defaults (nothing is sent) when she never chose."""
    return AlertPreference.objects.filter(user=user).first() or AlertPreference(user=user)


def alert_preference_update(
    *, user, priority_off_hours: bool, daily_digest: bool, email: str
) -> AlertPreference:
    preference, _ = AlertPreference.objects.update_or_create(
        user=user,
        defaults={
            "priority_off_hours": priority_off_hours,
            "daily_digest": daily_digest,
            "email": email.strip(),
        },
    )
    return preference
