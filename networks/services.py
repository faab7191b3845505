"""Every change to a Channel: connecting, losing authorization, disabling, and polling for messages."""

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import formats, timezone
from django.utils.translation import gettext

from inbox.services import message_ingest
from networks.base import (
    AuthorizationExpired,
    ConfigurationOutdated,
    InboundPage,
    RateLimited,
    Rejected,
    Transient,
)
from networks.models import Channel, ChannelStatus, Network
from networks.registry import CONNECTORS, connector_for
from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction

logger = logging.getLogger(__name__)

# A claimed channel whose poll task is lost (worker killed) comes due again after this long.
POLL_CLAIM_LEASE = timedelta(minutes=5)
# After failed checks the wait doubles from the connector's poll interval, up to this.
POLL_BACKOFF_CAP = timedelta(hours=1)


def channel_connect(
    *,
    network: str,
    account_id: str,
    display_name: str,
    handle: str = "",
    credentials: dict,
    actor=None,
    request=None,
) -> Channel:
    """Connect an account, or reconnect it with fresh credentials: active again, polled right away."""
    if network not in CONNECTORS:
        raise ValueError(f"No connector is installed for the network {network!r}.")
    with transaction.atomic():
        channel, created = Channel.objects.select_for_update().get_or_create(
            network=network,
            server=channel_server(network, credentials),
            account_id=account_id,
            defaults={"display_name": display_name},
        )
        channel.display_name = display_name
        channel.handle = handle
        channel.credentials = credentials
        channel.status = ChannelStatus.ACTIVE
        channel.last_error = ""
        channel.last_error_at = None
        channel.configuration_outdated = False
        channel.rate_limited_until = None
        channel.poll_failures = 0
        channel.next_poll_at = timezone.now()
        channel.save()
        audit_record(
            action=AuditAction.CHANNEL_CONNECTED,
            actor=actor,
            target=channel,
            details={"network": network, "reconnected": not created},
            request=request,
        )
    return channel


def channel_server(network: str, credentials: dict) -> str:
    """The server an account lives on, where ids are unique only per server (Channel.server)."""
    if network != Network.MASTODON:
        return ""
    return urlsplit(str(credentials.get("api_base_url", ""))).netloc.lower()


def channel_mark_needs_reconnect(
    *, channel: Channel, reason: str, configuration_outdated: bool = False
) -> Channel:
    """The network no longer accepts our credentials: stop using the channel and tell people why.

    With `configuration_outdated` (the error was ConfigurationOutdated) the network refuses
    SocialDesk's own settings instead, and the message says that a setting must change: the
    `reason` of that error already names the setting, so it is kept as it is."""
    now = timezone.now()
    if configuration_outdated:
        message = reason or gettext("The network no longer accepts SocialDesk's settings for it.")
    else:
        message = gettext(
            "The network no longer accepts SocialDesk's access (%(reason)s). An administrator must reconnect the channel."
        ) % {"reason": reason or gettext("no reason given")}
    with transaction.atomic():
        changed = Channel.objects.filter(pk=channel.pk, status=ChannelStatus.ACTIVE).update(
            status=ChannelStatus.NEEDS_RECONNECT,
            configuration_outdated=configuration_outdated,
            next_poll_at=None,
            last_error=message,
            last_error_at=now,
            updated_at=now,
        )
        if changed:
            details = {"reason": str(reason)}
            if configuration_outdated:
                details["configuration_outdated"] = True
            audit_record(action=AuditAction.CHANNEL_RECONNECT_NEEDED, target=channel, details=details)
    channel.refresh_from_db()
    return channel


def channel_disable(*, channel: Channel, actor, request=None) -> Channel:
    """Stop using the channel for good and forget its credentials (connecting it again asks for new ones)."""
    now = timezone.now()
    with transaction.atomic():
        changed = (
            Channel.objects.filter(pk=channel.pk)
            .exclude(status=ChannelStatus.DISABLED)
            .update(
                status=ChannelStatus.DISABLED, credentials_encrypted="", next_poll_at=None, updated_at=now
            )
        )
        if changed:
            audit_record(action=AuditAction.CHANNEL_DISABLED, actor=actor, target=channel, request=request)
    channel.refresh_from_db()
    return channel


def channels_claim_due_for_poll(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` active channels due for a check: their next_poll_at moves a lease
    ahead in the same transaction, and rows another claimer holds are skipped, so no channel is
    claimed twice. Call it inside the transaction that enqueues the polls on commit."""
    with transaction.atomic():
        due = (
            Channel.objects.select_for_update(skip_locked=True)
            .filter(status=ChannelStatus.ACTIVE, network__in=list(CONNECTORS), next_poll_at__lte=now)
            .order_by("next_poll_at", "id")
        )
        channel_ids = list(due.values_list("id", flat=True)[:limit])
        Channel.objects.filter(id__in=channel_ids).update(next_poll_at=now + POLL_CLAIM_LEASE)
    return channel_ids


def channel_poll(*, channel: Channel) -> int:
    """Fetch what arrived since the channel's cursor, store it, move the cursor. Network errors
    become channel state (postponed, backed off, needs reconnecting); returns how many messages
    were fetched."""
    connector = connector_for(channel)
    try:
        page = connector.fetch_inbound(cursor=channel.inbound_cursor)
    except RateLimited as exc:
        message = gettext(
            "The network asked us to slow down; SocialDesk checks for messages again at %(time)s."
        )
        _poll_postponed(
            channel, until=exc.until, message=message % {"time": _clock(exc.until)}, rate_limited=True
        )
        return 0
    except AuthorizationExpired as exc:
        channel_mark_needs_reconnect(
            channel=channel, reason=exc.reason, configuration_outdated=isinstance(exc, ConfigurationOutdated)
        )
        return 0
    except (Transient, Rejected) as exc:
        failures, until = _backed_off(channel, connector.poll_interval)
        message = gettext(
            "Checking for messages failed (%(reason)s); SocialDesk tries again at %(time)s."
        ) % {
            "reason": exc.reason or exc.__class__.__name__,
            "time": _clock(until),
        }
        _poll_postponed(channel, until=until, message=message, failures=failures)
        return 0
    try:
        _page_store(channel, page, poll_interval=connector.poll_interval)
    except Exception as exc:
        # A bug of ours, or a message the database still refuses: the page is stored whole or not
        # at all, so the cursor stays where it was and nothing is lost; the channel says so, and
        # the same page is tried again later, backing off, instead of failing unseen at every beat.
        logger.exception("Storing what channel %s fetched failed", channel.pk)
        failures, until = _backed_off(channel, connector.poll_interval)
        message = gettext(
            "The messages fetched could not be stored (%(reason)s). None is lost: SocialDesk "
            "tries again at %(time)s."
        ) % {"reason": exc.__class__.__name__, "time": _clock(until)}
        _poll_postponed(channel, until=until, message=message, failures=failures)
        return 0
    return len(page.messages)


def _backed_off(channel: Channel, poll_interval: timedelta) -> tuple[int, datetime]:
    """One more failure in a row, and when to check again: the wait doubles from the interval."""
    failures = channel.poll_failures + 1
    return failures, timezone.now() + min(poll_interval * 2**failures, POLL_BACKOFF_CAP)


def _page_store(channel: Channel, page: InboundPage, *, poll_interval: timedelta) -> None:
    """Every message of the page and the cursor after it, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        for inbound in page.messages:
            message_ingest(channel=channel, inbound=inbound)
        Channel.objects.filter(pk=channel.pk).update(
            inbound_cursor=page.cursor,
            last_synced_at=now,
            poll_failures=0,
            rate_limited_until=None,
            last_error="",
            last_error_at=None,
            # A channel disabled while it was being checked stays unscheduled.
            next_poll_at=Case(
                When(status=ChannelStatus.ACTIVE, then=Value(now + poll_interval)), default=None
            ),
            updated_at=now,
        )


def _clock(moment: datetime) -> str:
    return formats.time_format(timezone.localtime(moment), "H:i")


def _poll_postponed(
    channel: Channel,
    *,
    until: datetime,
    message: str,
    rate_limited: bool = False,
    failures: int | None = None,
) -> None:
    now = timezone.now()
    fields = {"next_poll_at": until, "last_error": message, "last_error_at": now, "updated_at": now}
    if rate_limited:
        fields["rate_limited_until"] = until
    if failures is not None:
        fields["poll_failures"] = failures
    Channel.objects.filter(pk=channel.pk, status=ChannelStatus.ACTIVE).update(**fields)
