"""Webhook deliveries from Meta (Facebook Pages and Instagram), from the raw body to messages.

Receiving (``/webhooks/meta/``, networks.views.meta_webhook) is quick and stores the delivery only
if it is genuine:

- subscription check: ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`` answers the
  challenge when the verify token equals settings.META_VERIFY_TOKEN (compared in constant time);
- delivery: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(META_APP_SECRET, raw body)>`` is checked
  in constant time over the bytes exactly as received, before anything is parsed. A missing or wrong
  signature stores nothing; a signed body that is not a JSON object is refused (400) and not stored
  either, since Meta never sends one and nothing could be taken from it;
- a genuine delivery becomes a WebhookEvent, and processing is enqueued once the row is committed.

Processing (task ``networks.tasks.process_webhook_event``) hands every ``entry`` of a Page or Instagram
account that is a connected channel to the connector module's ``normalize_webhook_entry`` and stores
the messages with inbox.services.message_ingest, which is idempotent per (channel, external id): a
delivery Meta repeats, or a message polling already found, changes nothing. Entries for accounts
that are not connected (or disabled) are acknowledged and ignored. Instagram mentions arrive as ids
only; they are read through the connector. Polling remains the default way messages arrive.

A delivery whose processing never finished (the worker was killed, or a bug of ours stopped it) is
processed again by the hourly purge; one that fails again is closed with the error, so its raw body
is deleted with the others when its retention ends instead of staying for ever.
"""

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from inbox.services import message_ingest
from networks import facebook, instagram
from networks.base import AuthorizationExpired, ConfigurationOutdated, ConnectorError
from networks.models import Channel, ChannelStatus, Network, WebhookEvent, WebhookSource
from networks.registry import connector_for
from networks.services import channel_mark_needs_reconnect

logger = logging.getLogger(__name__)

# Meta's deliveries are a few kilobytes; a body past this is not Meta's and is refused unread (413).
MAX_BODY_BYTES = 1024 * 1024
# Raw deliveries hold citizens' words; once processed they are kept this long for inquiries, then deleted.
WEBHOOK_EVENT_RETENTION = timedelta(days=30)
# A delivery still not processed this long after it came was lost on its way through the worker.
WEBHOOK_RETRY_AFTER = timedelta(minutes=10)

# Meta's `object` → the network whose channels it concerns, and the normalizer of one entry.
META_OBJECTS = {
    "page": (Network.FACEBOOK, facebook.normalize_webhook_entry),
    "instagram": (Network.INSTAGRAM, instagram.normalize_webhook_entry),
}


class WebhookRefused(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def meta_subscription_challenge(*, mode: str, verify_token: str, challenge: str) -> str:
    """The challenge to answer to Meta's subscription check; WebhookRefused(403) if it is not ours."""
    expected = settings.META_VERIFY_TOKEN
    if not expected or mode != "subscribe":
        raise WebhookRefused(403)
    if not hmac.compare_digest(verify_token.encode(), expected.encode()):
        raise WebhookRefused(403)
    return challenge


def meta_delivery_receive(*, body: bytes, signature: str) -> WebhookEvent:
    """Store a signed delivery and enqueue its processing after commit. WebhookRefused(403) for a
    missing or wrong signature, (400) for a body that is not a JSON object: nothing is stored."""
    if not _meta_signature_valid(body, signature):
        raise WebhookRefused(403)
    try:
        text = body.decode("utf-8")
        payload = json.loads(text)
    except ValueError:
        raise WebhookRefused(400) from None
    if not isinstance(payload, dict):
        raise WebhookRefused(400)
    # Imported here: the task module imports this one for webhook_event_process.
    from networks.tasks import process_webhook_event

    with transaction.atomic():
        event = WebhookEvent.objects.create(source=WebhookSource.META, body=text)
        process_webhook_event.delay_on_commit(event.pk)
    return event


def webhook_event_process(*, event: WebhookEvent) -> int:
    """Store the messages of one delivery (once: a processed event is left alone). Returns how many
    messages were ingested; what could not be read goes to `event.error`."""
    if event.processed_at is not None:
        return 0
    problems: list[str] = []
    ingested = 0
    payload = json.loads(event.body)
    handled = META_OBJECTS.get(payload.get("object"))
    entries = [entry for entry in payload.get("entry") or [] if isinstance(entry, dict)]
    if handled is None:
        problems.append(
            gettext("Deliveries about %(object)r are not used.") % {"object": payload.get("object")}
        )
    else:
        network, normalize = handled
        channels = _connected_channels(network, entries)
        for entry in entries:
            channel = channels.get(str(entry.get("id", "")))
            if channel is None:
                continue  # not an account of ours, or disabled: acknowledged and ignored
            try:
                messages = normalize(entry)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(
                    gettext("An entry for %(account)s could not be read (%(error)s).")
                    % {"account": channel, "error": repr(exc)}
                )
                continue
            for inbound in messages:
                message_ingest(channel=channel, inbound=inbound)
            ingested += len(messages)
            if network == Network.INSTAGRAM:
                ingested += _instagram_mentions(channel, entry, problems)
    WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="\n".join(problems))
    return ingested


def webhook_events_retry(*, now: datetime) -> int:
    """Process again the deliveries whose processing never finished; how many there were. One that
    fails again is closed with the error (the channel's own checks for messages bring what it
    carried), so the purge deletes it when its retention ends."""
    stale = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=now - WEBHOOK_RETRY_AFTER
    ).order_by("pk")
    retried = 0
    for event in stale.iterator():
        retried += 1
        try:
            webhook_event_process(event=event)
        except Exception as exc:
            logger.exception("Processing webhook delivery %s failed again", event.pk)
            error = gettext(
                "Processing it failed twice (%(error)s); the channel's own checks for messages bring "
                "what it carried."
            ) % {"error": exc.__class__.__name__}
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=now, error=error)
    return retried


def webhook_events_purge(*, now: datetime) -> int:
    """Delete processed deliveries older than WEBHOOK_EVENT_RETENTION; how many went."""
    deleted, _ = WebhookEvent.objects.filter(
        processed_at__isnull=False, received_at__lt=now - WEBHOOK_EVENT_RETENTION
    ).delete()
    return deleted


def _meta_signature_valid(body: bytes, signature: str) -> bool:
    secret = settings.META_APP_SECRET
    if not secret or not signature.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.removeprefix("sha256=").strip().lower().encode())


def _connected_channels(network: str, entries: list[dict]) -> dict[str, Channel]:
    account_ids = {str(entry.get("id", "")) for entry in entries}
    channels = Channel.objects.filter(network=network, account_id__in=account_ids).exclude(
        status=ChannelStatus.DISABLED
    )
    return {channel.account_id: channel for channel in channels}


def _instagram_mentions(channel: Channel, entry: dict, problems: list[str]) -> int:
    """Mentions come as ids only: read each one through the connector."""
    mentions = instagram.webhook_mentions(entry)
    if not mentions:
        return 0
    if channel.status != ChannelStatus.ACTIVE:
        problems.append(
            ngettext(
                "%(count)d mention of %(account)s was not read: the channel needs reconnecting.",
                "%(count)d mentions of %(account)s were not read: the channel needs reconnecting.",
                len(mentions),
            )
            % {"count": len(mentions), "account": channel}
        )
        return 0
    connector = connector_for(channel)
    ingested = 0
    for mention in mentions:
        try:
            inbound = connector.fetch_mention(**mention)
        except AuthorizationExpired as exc:
            channel_mark_needs_reconnect(
                channel=channel,
                reason=exc.reason,
                configuration_outdated=isinstance(exc, ConfigurationOutdated),
            )
            problems.append(gettext("A mention could not be read: %(reason)s") % {"reason": exc.reason})
            return ingested
        except ConnectorError as exc:
            problems.append(gettext("A mention could not be read: %(reason)s") % {"reason": exc.reason})
            continue
        message_ingest(channel=channel, inbound=inbound)
        ingested += 1
    return ingested
