"""Beat claims due channels atomically, polls each after commit, ingests, and maps network errors."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from inbox.models import Conversation, Message
from networks import services as network_services
from networks.base import InboundMessage, InboundPage
from networks.models import Channel, ChannelStatus, Network, SandboxAccount, SandboxEvent, SandboxFailure
from networks.sandbox import SandboxConnector, sandbox_citizen_writes, sandbox_simulate_due_citizens
from networks.services import POLL_CLAIM_LEASE, channel_disable, channel_poll, channels_claim_due_for_poll
from networks.tasks import poll_channel, poll_due_channels, sandbox_simulate_citizens
from tests.networks.fixtures import inbound, make_sandbox_channel

INTERVAL = SandboxConnector.poll_interval


def _reload(channel) -> Channel:
    return Channel.objects.get(pk=channel.pk)


def _make_due(*channels) -> None:
    Channel.objects.filter(pk__in=[channel.pk for channel in channels]).update(
        next_poll_at=timezone.now() - timedelta(seconds=1)
    )


def test_claim_takes_due_active_channels_once(administrator, only_sandbox_installed):
    _, due = make_sandbox_channel("uno")
    _, later = make_sandbox_channel("dos")
    _, disabled = make_sandbox_channel("tres")
    Channel.objects.filter(pk=later.pk).update(next_poll_at=timezone.now() + timedelta(minutes=1))
    channel_disable(channel=disabled, actor=administrator)
    # A network whose connector is not installed yet is never claimed.
    orphan = Channel.objects.create(
        network=Network.X, account_id="1", display_name="X", next_poll_at=timezone.now()
    )
    now = timezone.now()

    assert channels_claim_due_for_poll(now=now, limit=10) == [due.pk]
    assert _reload(due).next_poll_at == now + POLL_CLAIM_LEASE
    assert channels_claim_due_for_poll(now=now, limit=10) == []
    assert _reload(orphan).next_poll_at <= now


def test_claim_respects_the_batch_limit_oldest_first(db):
    channels = [make_sandbox_channel(f"c{number}")[1] for number in range(3)]
    for age, channel in enumerate(channels):
        Channel.objects.filter(pk=channel.pk).update(next_poll_at=timezone.now() - timedelta(minutes=age))
    now = timezone.now()

    assert channels_claim_due_for_poll(now=now, limit=2) == [channels[2].pk, channels[1].pk]
    assert channels_claim_due_for_poll(now=now, limit=2) == [channels[0].pk]


def test_poll_due_channels_enqueues_polls_only_after_commit(
    sandbox_channel, sandbox_account, rng, django_capture_on_commit_callbacks
):
    sandbox_citizen_writes(account=sandbox_account, rng=rng)

    with django_capture_on_commit_callbacks() as callbacks:
        assert poll_due_channels() == 1
    assert len(callbacks) == 1
    assert not Message.objects.exists()  # nothing ran before the commit

    callbacks[0]()
    assert Message.objects.count() == 1


def test_poll_channel_ingests_saves_the_cursor_and_schedules_the_next_check(
    sandbox_channel, sandbox_account, rng
):
    events = [sandbox_citizen_writes(account=sandbox_account, rng=rng) for _ in range(4)]
    before = timezone.now()

    poll_channel(sandbox_channel.pk)

    channel = _reload(sandbox_channel)
    assert Message.objects.count() == 4
    assert set(Message.objects.values_list("external_id", flat=True)) == {
        event.external_id for event in events
    }
    assert channel.inbound_cursor == {"after": events[-1].pk}
    assert channel.last_synced_at >= before
    assert before + INTERVAL <= channel.next_poll_at <= timezone.now() + INTERVAL

    newer = sandbox_citizen_writes(account=sandbox_account, rng=rng)
    poll_channel(sandbox_channel.pk)
    assert Message.objects.count() == 5
    assert _reload(sandbox_channel).inbound_cursor == {"after": newer.pk}


def test_polling_the_same_messages_again_changes_nothing(sandbox_channel, sandbox_account, rng):
    for _ in range(3):
        sandbox_citizen_writes(account=sandbox_account, rng=rng)
    poll_channel(sandbox_channel.pk)
    snapshot = list(Message.objects.order_by("pk").values())

    Channel.objects.filter(pk=sandbox_channel.pk).update(
        inbound_cursor={}
    )  # the network redelivers everything
    poll_channel(sandbox_channel.pk)

    assert list(Message.objects.order_by("pk").values()) == snapshot


def test_an_edit_reported_by_the_network_updates_the_message(sandbox_channel, sandbox_account, rng):
    event = sandbox_citizen_writes(account=sandbox_account, rng=rng)
    poll_channel(sandbox_channel.pk)
    event.pk = None
    event.text = "Corrijo: la cita era en Gandia, no en Alzira."
    event.save()

    poll_channel(sandbox_channel.pk)

    message = Message.objects.get()
    assert message.text == "Corrijo: la cita era en Gandia, no en Alzira."
    assert message.edited is True


def test_rate_limited_waits_until_the_network_says(sandbox_channel, sandbox_account):
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(failure=SandboxFailure.RATE_LIMITED)

    poll_channel(sandbox_channel.pk)

    channel = _reload(sandbox_channel)
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.next_poll_at == channel.rate_limited_until
    assert channel.next_poll_at > timezone.now() + timedelta(minutes=1)
    assert channel.last_error_at is not None
    assert timezone.localtime(channel.next_poll_at).strftime("%H:%M") in channel.last_error


def test_expired_authorization_marks_the_channel_for_reconnecting(sandbox_channel, sandbox_account):
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(failure=SandboxFailure.AUTHORIZATION_EXPIRED)

    poll_channel(sandbox_channel.pk)

    channel = _reload(sandbox_channel)
    assert channel.status == ChannelStatus.NEEDS_RECONNECT
    assert channel.next_poll_at is None
    assert gettext("The sandbox access token has expired.") in channel.last_error


def test_transient_errors_back_off_exponentially_and_success_resets(sandbox_channel, sandbox_account, rng):
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(failure=SandboxFailure.TRANSIENT)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        poll_channel(sandbox_channel.pk)
        first = _reload(sandbox_channel)
        poll_channel(sandbox_channel.pk)
        second = _reload(sandbox_channel)

    assert first.poll_failures == 1
    assert first.next_poll_at == now + INTERVAL * 2
    assert second.poll_failures == 2
    assert second.next_poll_at == now + INTERVAL * 4
    assert gettext("The sandbox is temporarily unavailable.") in second.last_error
    assert second.status == ChannelStatus.ACTIVE

    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(failure=SandboxFailure.NONE)
    sandbox_citizen_writes(account=sandbox_account, rng=rng)
    poll_channel(sandbox_channel.pk)
    recovered = _reload(sandbox_channel)
    assert (recovered.poll_failures, recovered.last_error, recovered.last_error_at) == (0, "", None)
    assert Message.objects.count() == 1


def test_a_rejected_check_backs_off_and_keeps_the_networks_reason(sandbox_channel):
    Channel.objects.filter(pk=sandbox_channel.pk).update(inbound_cursor={"after": "bogus"})

    poll_channel(sandbox_channel.pk)

    channel = _reload(sandbox_channel)
    assert channel.poll_failures == 1
    assert gettext("The sandbox does not understand this cursor.") in channel.last_error


def test_poll_channel_ignores_a_channel_that_is_no_longer_active(
    administrator, sandbox_channel, sandbox_account, rng
):
    sandbox_citizen_writes(account=sandbox_account, rng=rng)
    channel_disable(channel=sandbox_channel, actor=administrator)

    poll_channel(sandbox_channel.pk)

    assert not Message.objects.exists()


def test_channel_poll_returns_how_many_messages_it_fetched(sandbox_channel, sandbox_account, rng):
    for _ in range(2):
        sandbox_citizen_writes(account=sandbox_account, rng=rng)
    assert channel_poll(channel=sandbox_channel) == 2


def test_simulated_citizens_write_about_every_configured_interval(administrator, sandbox_account, rng, db):
    _, disabled = make_sandbox_channel("apagado")
    channel_disable(channel=disabled, actor=administrator)
    now = timezone.now()
    interval = timedelta(seconds=settings.SOCIALDESK_SANDBOX_MESSAGE_SECONDS)

    # The first message comes at once, so a fresh demo shows one within a minute.
    assert sandbox_simulate_due_citizens(now=now, rng=rng) == 1
    assert sandbox_simulate_due_citizens(now=now + interval * 0.49, rng=rng) == 0
    assert sandbox_simulate_due_citizens(now=now + interval * 1.51, rng=rng) == 1
    assert SandboxEvent.objects.filter(account=sandbox_account).count() == 2
    assert not SandboxEvent.objects.exclude(account=sandbox_account).exists()


def test_beat_tasks_bring_a_citizens_message_into_the_inbox(
    sandbox_channel, django_capture_on_commit_callbacks
):
    assert sandbox_simulate_citizens() == 1
    with django_capture_on_commit_callbacks(execute=True):
        poll_due_channels()

    conversation = Conversation.objects.get()
    assert conversation.channel == sandbox_channel
    assert conversation.needs_reply is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_claim_the_same_channel():
    channel_ids = {make_sandbox_channel(f"canal{number}")[1].pk for number in range(6)}
    _make_due(*Channel.objects.all())
    now = timezone.now()
    claims: dict[str, list[int]] = {}
    first_holds_its_claim = threading.Event()
    second_done = threading.Event()
    errors = []

    def claimer(name: str, limit: int, *, before_commit=None) -> None:
        try:
            with transaction.atomic():
                claims[name] = channels_claim_due_for_poll(now=now, limit=limit)
                if before_commit:
                    before_commit()
        except Exception as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def hold_until_second_claimed():
        first_holds_its_claim.set()
        assert second_done.wait(timeout=10), "the second claimer never finished"

    first = threading.Thread(
        target=claimer, args=("first", 4), kwargs={"before_commit": hold_until_second_claimed}
    )
    first.start()
    assert first_holds_its_claim.wait(timeout=10)
    # The first claim is still uncommitted: its rows are locked, and must be skipped, not waited for.
    second = threading.Thread(target=claimer, args=("second", 10), kwargs={"before_commit": second_done.set})
    second.start()
    second.join(timeout=10)
    first.join(timeout=10)

    assert not errors
    assert len(claims["first"]) == 4
    assert len(claims["second"]) == 2
    assert set(claims["first"]).isdisjoint(claims["second"])
    assert set(claims["first"]) | set(claims["second"]) == channel_ids

    # Committed claims moved the lease ahead: a third claimer finds nothing.
    assert channels_claim_due_for_poll(now=now, limit=10) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_claimers_share_the_channels_without_overlap():
    channel_ids = {make_sandbox_channel(f"canal{number}")[1].pk for number in range(12)}
    _make_due(*Channel.objects.all())
    now = timezone.now()
    start = threading.Barrier(4, timeout=10)
    claims = []
    lock = threading.Lock()

    def claimer() -> None:
        try:
            start.wait()
            with transaction.atomic():
                claimed = channels_claim_due_for_poll(now=now, limit=5)
            with lock:
                claims.append(claimed)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)

    claimed = [channel_id for batch in claims for channel_id in batch]
    assert len(claims) == 4
    assert len(claimed) == len(set(claimed))
    assert set(claimed) == channel_ids


def _network_reports(monkeypatch, *messages: InboundMessage, cursor: dict) -> None:
    page = InboundPage(list(messages), cursor)
    monkeypatch.setattr(SandboxConnector, "fetch_inbound", lambda self, cursor=None: page)


def test_what_the_database_cannot_hold_is_dropped_and_the_message_kept(sandbox_channel, monkeypatch):
    # NUL and a lone half of an emoji are refused by PostgreSQL (they stopped the whole channel).
    _network_reports(
        monkeypatch,
        inbound(
            "m1",
            text="Hola\x00, me corto aquí \ud83d y sigo",
            author_name="L" * 300,
            raw={"text": "Hola\x00", "parts\x00": ["\udc00"]},
        ),
        inbound("m2", text="Otra pregunta", author_id="citizen-2"),
        cursor={"after": 2},
    )

    assert channel_poll(channel=sandbox_channel) == 2

    kept = Message.objects.get(external_id="m1")
    assert kept.text == "Hola, me corto aquí \ufffd y sigo"
    assert kept.author.display_name == "L" * 200
    assert kept.raw == {"text": "Hola", "parts": ["\ufffd"]}
    assert Message.objects.filter(external_id="m2").exists()
    assert _reload(sandbox_channel).inbound_cursor == {"after": 2}

    channel_poll(channel=sandbox_channel)  # reported again: the same message, not an edit
    assert Message.objects.count() == 2
    assert Message.objects.get(external_id="m1").edited is False


def test_a_page_that_cannot_be_stored_keeps_its_cursor_and_says_so(sandbox_channel, monkeypatch):
    cursor_before = _reload(sandbox_channel).inbound_cursor
    _network_reports(monkeypatch, inbound("m1"), cursor={"after": 1})
    with monkeypatch.context() as broken:
        broken.setattr(network_services, "message_ingest", lambda **kwargs: 1 / 0)
        now = timezone.now()
        with time_machine.travel(now, tick=False):
            assert channel_poll(channel=sandbox_channel) == 0

    channel = _reload(sandbox_channel)
    assert channel.inbound_cursor == cursor_before
    assert (channel.poll_failures, channel.next_poll_at) == (1, now + INTERVAL * 2)
    assert "ZeroDivisionError" in channel.last_error
    assert timezone.localtime(channel.next_poll_at).strftime("%H:%M") in channel.last_error
    assert not Message.objects.exists()

    assert channel_poll(channel=sandbox_channel) == 1  # fixed: the same page comes in
    channel = _reload(sandbox_channel)
    assert (channel.inbound_cursor, channel.poll_failures, channel.last_error) == ({"after": 1}, 0, "")
