"""/webhooks/meta/: Meta's subscription check, signed deliveries stored raw and processed by a task
after commit, into messages for connected Pages and Instagram accounts only."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
import time_machine
from django.utils import translation
from responses import matchers

from inbox.models import Message
from networks import webhooks
from networks.models import Channel, ChannelStatus, Network, WebhookEvent
from networks.services import channel_connect, channel_disable
from networks.tasks import purge_webhook_events
from networks.webhooks import WEBHOOK_EVENT_RETENTION, webhook_event_process
from tests.networks.payloads import payload, payload_text

APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "a-long-random-verify-token"
PAGE = "104857321234567"
IG = "17841405822304914"
URL = "/webhooks/meta/"


@pytest.fixture(autouse=True)
def meta_configured(settings):
    settings.META_APP_SECRET = APP_SECRET
    settings.META_VERIFY_TOKEN = VERIFY_TOKEN


@pytest.fixture(autouse=True)
def in_english(client):
    """Problems are recorded in the source language the assertions quote (the request's language
    stays active for the task run after it)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def page_channel(db):
    return channel_connect(
        network=Network.FACEBOOK,
        account_id=PAGE,
        display_name="Empleo Comunitat Valenciana",
        credentials={"access_token": "page-token"},
    )


@pytest.fixture
def instagram_channel(db):
    return channel_connect(
        network=Network.INSTAGRAM,
        account_id=IG,
        display_name="empleo_cv",
        handle="empleo_cv",
        credentials={"access_token": "page-token", "page_id": "104857321234999"},
    )


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, body: bytes, *, signature: str | None = None, **extra):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signed(body) if signature is None else signature}
    return client.post(URL, data=body, content_type="application/json", **headers, **extra)


def deliver_and_process(client, django_capture_on_commit_callbacks, body: bytes):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, body)
    assert response.status_code == 200
    return response


# --- subscription check ------------------------------------------------------------------------


def test_the_subscription_check_answers_the_challenge_as_plain_text(client, db):
    response = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content == b"1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong-token", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1], "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
    ids=["wrong token", "token prefix", "other mode", "nothing"],
)
def test_a_subscription_check_without_our_token_is_refused(client, db, params):
    response = client.get(URL, params)

    assert response.status_code == 403
    assert b"1" not in response.content


def test_without_a_verify_token_setting_no_subscription_succeeds(client, db, settings):
    settings.META_VERIFY_TOKEN = ""

    response = client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})

    assert response.status_code == 403


# --- deliveries: checked before anything is stored ---------------------------------------------


def test_a_signed_delivery_is_stored_raw_and_processed_after_commit(
    client, page_channel, django_capture_on_commit_callbacks
):
    body = payload_text("facebook", "webhook_comment").encode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, body)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.source, event.body, event.processed_at) == ("meta", body.decode(), None)
    assert not Message.objects.exists()  # nothing happens before the commit
    assert len(callbacks) == 1

    callbacks[0]()

    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""
    message = Message.objects.get()
    assert (message.channel, message.external_id, message.text) == (
        page_channel,
        "122150000000000002_1122334455660001",
        "¿Cuándo se abre el plazo para el curso de soldadura?",
    )


def test_a_forged_signature_is_refused_and_stores_nothing(
    client, page_channel, django_capture_on_commit_callbacks
):
    body = payload_text("facebook", "webhook_comment").encode()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(client, body, signature=signed(body, secret="someone-elses-secret"))

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists() and not Message.objects.exists()
    assert callbacks == []


def test_a_signature_over_other_bytes_is_refused(client, page_channel):
    body = payload_text("facebook", "webhook_comment").encode()
    # The same JSON re-serialised: equal as data, not as the bytes Meta signed.
    reserialised = json.dumps(json.loads(body)).encode()

    response = deliver(client, reserialised, signature=signed(body))

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("signature", ["", "sha256=", "sha1=0123abcd", "sha256=not-hex-at-all"])
def test_a_missing_or_malformed_signature_is_refused(client, page_channel, signature):
    response = deliver(client, payload_text("facebook", "webhook_comment").encode(), signature=signature)

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_an_upper_case_hex_signature_is_accepted(client, page_channel):
    body = payload_text("facebook", "webhook_comment").encode()

    response = deliver(client, body, signature=signed(body).upper().replace("SHA256=", "sha256="))

    assert response.status_code == 200


def test_without_the_app_secret_setting_every_delivery_is_refused(client, page_channel, settings):
    settings.META_APP_SECRET = ""
    body = payload_text("facebook", "webhook_comment").encode()

    response = deliver(client, body, signature=signed(body, secret=""))

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"a string"', "{}".encode("utf-16")])
def test_a_signed_body_that_is_not_a_json_object_is_refused_and_not_stored(client, db, body):
    response = deliver(client, body)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_body_over_the_cap_is_refused_unread(client, db):
    body = b'{"object": "page", "entry": []}'

    response = deliver(client, body, CONTENT_LENGTH=str(1024 * 1024 + 1))

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_the_webhook_needs_no_session_and_no_csrf_token(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = payload_text("facebook", "webhook_comment").encode()

    assert deliver(strict, body).status_code == 200


def test_other_methods_are_not_allowed(client, db):
    assert client.put(URL, data=b"{}").status_code == 405


# --- processing ---------------------------------------------------------------------------------


def test_messenger_messages_become_private_messages(client, page_channel, django_capture_on_commit_callbacks):
    deliver_and_process(
        client, django_capture_on_commit_callbacks, payload_text("facebook", "webhook_messenger").encode()
    )

    messages = {message.external_id: message for message in Message.objects.all()}
    assert set(messages) == {"m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM", "m_Ff6kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM"}
    citizen = messages["m_Bq8kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM"]
    assert citizen.text == "I per a les persones aturades de llarga durada?"
    assert citizen.conversation.thread_key == "dm:7654321098765432"
    assert messages["m_Ff6kX2c3LlxhVDpRkQWdHk3fFtQpZ2mL9aM"].conversation == citizen.conversation


def test_instagram_comments_and_direct_messages_reach_the_instagram_channel(
    client, instagram_channel, django_capture_on_commit_callbacks
):
    for name in ("webhook_comment", "webhook_messaging"):
        deliver_and_process(
            client, django_capture_on_commit_callbacks, payload_text("instagram", name).encode()
        )

    assert set(Message.objects.values_list("channel__network", "external_id", "text")) == {
        ("instagram", "17865799348089039", "Moltes gràcies!"),
        (
            "instagram",
            payload("instagram", "webhook_messaging")["entry"][0]["messaging"][0]["message"]["mid"],
            "Hola, necessite informació sobre el curs de carretoner.",
        ),
    }


def test_instagram_mentions_are_read_through_the_connector(
    client, instagram_channel, django_capture_on_commit_callbacks
):
    proof = hmac.new(APP_SECRET.encode(), b"page-token", hashlib.sha256).hexdigest()  # the app secret is set

    def query(fields):
        return matchers.query_param_matcher(
            {"access_token": "page-token", "fields": fields, "appsecret_proof": proof}, strict_match=True
        )

    with responses.RequestsMock(assert_all_requests_are_fired=True) as graph:
        graph.get(
            f"https://graph.facebook.com/v24.0/{IG}",
            json=payload("instagram", "mentioned_comment"),
            match=[query("mentioned_comment.comment_id(17873440459141021){id,text,timestamp,username}")],
        )
        graph.get(
            f"https://graph.facebook.com/v24.0/{IG}",
            json=payload("instagram", "mentioned_media"),
            match=[
                query("mentioned_media.media_id(17887498072083521){id,caption,timestamp,username,permalink}")
            ],
        )
        deliver_and_process(
            client, django_capture_on_commit_callbacks, payload_text("instagram", "webhook_mentions").encode()
        )

    assert set(Message.objects.values_list("external_id", flat=True)) == {
        "17873440459141021",
        payload("instagram", "mentioned_media")["mentioned_media"]["id"],
    }
    assert WebhookEvent.objects.get().error == ""


def test_a_mention_that_cannot_be_read_is_recorded_on_the_event(
    client, instagram_channel, django_capture_on_commit_callbacks
):
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": IG,
                    "time": 1795866500,
                    "changes": [
                        {
                            "field": "mentions",
                            "value": {"media_id": "17887498072083520", "comment_id": "17873440459141021"},
                        }
                    ],
                }
            ],
        }
    ).encode()
    with responses.RequestsMock() as graph:
        graph.get(
            f"https://graph.facebook.com/v24.0/{IG}",
            status=400,
            json=payload("instagram", "error_token_invalid"),
        )
        deliver_and_process(client, django_capture_on_commit_callbacks, body)

    assert not Message.objects.exists()
    assert WebhookEvent.objects.get().error.startswith("A mention could not be read")
    instagram_channel.refresh_from_db()
    assert instagram_channel.status == ChannelStatus.NEEDS_RECONNECT


def test_entries_for_accounts_that_are_not_connected_are_acknowledged_and_ignored(
    client, db, django_capture_on_commit_callbacks
):
    channel_connect(
        network=Network.INSTAGRAM,
        account_id=PAGE,
        display_name="Same id, other network",
        credentials={"access_token": "t", "page_id": "p"},
    )

    deliver_and_process(
        client, django_capture_on_commit_callbacks, payload_text("facebook", "webhook_comment").encode()
    )

    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.error == ""
    assert not Message.objects.exists()


def test_a_disabled_channel_is_ignored(
    client, page_channel, administrator, django_capture_on_commit_callbacks
):
    channel_disable(channel=page_channel, actor=administrator)

    deliver_and_process(
        client, django_capture_on_commit_callbacks, payload_text("facebook", "webhook_comment").encode()
    )

    assert not Message.objects.exists()


def test_a_channel_needing_reconnection_still_receives_its_messages(
    client, page_channel, django_capture_on_commit_callbacks
):
    Channel.objects.filter(pk=page_channel.pk).update(status=ChannelStatus.NEEDS_RECONNECT)

    deliver_and_process(
        client, django_capture_on_commit_callbacks, payload_text("facebook", "webhook_comment").encode()
    )

    assert Message.objects.filter(channel=page_channel).count() == 1


def test_a_repeated_delivery_makes_one_message(client, page_channel, django_capture_on_commit_callbacks):
    body = payload_text("facebook", "webhook_comment").encode()

    deliver_and_process(client, django_capture_on_commit_callbacks, body)
    deliver_and_process(client, django_capture_on_commit_callbacks, body)

    assert WebhookEvent.objects.count() == 2
    assert Message.objects.count() == 1


def test_a_processed_event_is_not_processed_again(page_channel):
    event = WebhookEvent.objects.create(source="meta", body=payload_text("facebook", "webhook_comment"))
    assert webhook_event_process(event=event) == 1
    event.refresh_from_db()
    Message.objects.all().delete()

    assert webhook_event_process(event=event) == 0
    assert not Message.objects.exists()


def test_an_entry_that_cannot_be_read_is_recorded_and_the_rest_still_counts(page_channel):
    good = payload("facebook", "webhook_comment")["entry"][0]
    broken = {
        "id": PAGE,
        "time": 1795866120,
        "changes": [{"field": "feed", "value": {"item": "comment", "verb": "add"}}],
    }
    event = WebhookEvent.objects.create(
        source="meta", body=json.dumps({"object": "page", "entry": [broken, good]})
    )

    assert webhook_event_process(event=event) == 1

    event.refresh_from_db()
    assert "could not be read" in event.error
    assert event.processed_at is not None


def test_deliveries_about_other_objects_are_recorded_as_unused(db):
    event = WebhookEvent.objects.create(
        source="meta", body=json.dumps({"object": "user", "entry": [{"id": "1"}]})
    )

    assert webhook_event_process(event=event) == 0

    event.refresh_from_db()
    assert "'user'" in event.error


def test_processed_deliveries_are_deleted_after_thirty_days(db):
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    with time_machine.travel(now - timedelta(days=31), tick=False):
        old = WebhookEvent.objects.create(source="meta", body="{}", processed_at=now - timedelta(days=31))
    with time_machine.travel(now - timedelta(days=29), tick=False):
        recent = WebhookEvent.objects.create(source="meta", body="{}", processed_at=now - timedelta(days=29))

    with time_machine.travel(now, tick=False):
        assert purge_webhook_events() == 1

    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {recent.pk}
    assert not WebhookEvent.objects.filter(pk=old.pk).exists()


def test_a_delivery_left_unprocessed_is_processed_by_the_next_purge(page_channel):
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    body = payload_text("facebook", "webhook_comment")
    with time_machine.travel(now - timedelta(minutes=20), tick=False):
        lost = WebhookEvent.objects.create(source="meta", body=body)  # its task never ran to the end
    with time_machine.travel(now - timedelta(minutes=2), tick=False):
        in_flight = WebhookEvent.objects.create(source="meta", body=body)  # its task may be running

    with time_machine.travel(now, tick=False):
        purge_webhook_events()

    lost.refresh_from_db()
    in_flight.refresh_from_db()
    assert (lost.processed_at, lost.error) == (now, "")
    assert in_flight.processed_at is None
    assert Message.objects.count() == 1


def test_a_delivery_that_fails_again_is_closed_with_the_error_and_purged_in_time(page_channel, monkeypatch):
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
    with time_machine.travel(now - timedelta(hours=1), tick=False):
        failing = WebhookEvent.objects.create(source="meta", body=payload_text("facebook", "webhook_comment"))
    monkeypatch.setattr(webhooks, "message_ingest", lambda **kwargs: 1 / 0)

    with time_machine.travel(now, tick=False):
        purge_webhook_events()

    failing.refresh_from_db()
    assert failing.processed_at == now
    assert "failed twice (ZeroDivisionError)" in failing.error
    with time_machine.travel(now + WEBHOOK_EVENT_RETENTION + timedelta(hours=1), tick=False):
        assert purge_webhook_events() == 1  # its raw body does not stay for ever
    assert not WebhookEvent.objects.filter(pk=failing.pk).exists()


def test_the_purge_is_scheduled_in_beat():
    from socialdesk.beat import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["purge-webhook-events"]["task"] == purge_webhook_events.name


def test_mentions_for_a_channel_needing_reconnection_are_recorded_unread(
    client, instagram_channel, django_capture_on_commit_callbacks
):
    Channel.objects.filter(pk=instagram_channel.pk).update(status=ChannelStatus.NEEDS_RECONNECT)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as graph:
        deliver_and_process(
            client, django_capture_on_commit_callbacks, payload_text("instagram", "webhook_mentions").encode()
        )
        assert len(graph.calls) == 0

    assert WebhookEvent.objects.get().error == (
        "2 mentions of empleo_cv (Instagram) were not read: the channel needs reconnecting."
    )
