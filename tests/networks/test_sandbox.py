"""The sandbox network behaves like a real one: posts, replies, moderation, metrics, errors on demand."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.translation import gettext

from networks.base import (
    AuthorizationExpired,
    InboundKind,
    RateLimited,
    Rejected,
    ReplyTarget,
    Transient,
)
from networks.models import SandboxAccount, SandboxEvent, SandboxFailure, SandboxPost, SandboxPostKind
from networks.registry import connector_for
from networks.sandbox import MAX_LENGTH, sandbox_account_open, sandbox_citizen_writes
from networks.sandbox_citizens import CITIZENS, SPANISH, VALENCIAN


def _citizen_message(account, rng, kind):
    """A simulated citizen's message of the wanted kind (the simulator chooses kinds at random)."""
    for _ in range(200):
        event = sandbox_citizen_writes(account=account, rng=rng)
        if event.kind == kind and not event.is_from_us:
            return event
    raise AssertionError(f"the simulator never wrote a {kind}")


def test_publish_stores_the_post_and_returns_its_id_and_url(sandbox, sandbox_account):
    result = sandbox.publish(text="Nuevas ofertas de empleo esta semana", link="https://example.org/ofertas")

    post = SandboxPost.objects.get(external_id=result.external_id)
    assert post.account == sandbox_account
    assert post.kind == SandboxPostKind.POST
    assert post.text == "Nuevas ofertas de empleo esta semana https://example.org/ofertas"
    assert isinstance(result.external_id, str)
    assert result.url == f"https://sandbox.invalid/@{sandbox_account.handle}/{result.external_id}"


def test_a_link_the_text_already_carries_is_not_added_again(sandbox, sandbox_account):
    # Compose from item writes the link in the text and in the link field.
    sandbox.publish(text="Oferta de empleo https://e.org/o/1 #Empleo", link="https://e.org/o/1")
    sandbox.publish(text="Otra oferta https://e.org/o/12", link="https://e.org/o/1")
    assert [post.text for post in SandboxPost.objects.order_by("pk")] == [
        "Oferta de empleo https://e.org/o/1 #Empleo",
        "Otra oferta https://e.org/o/12 https://e.org/o/1",  # a longer address is another link
    ]


def test_publish_refuses_the_same_text_twice_in_a_day_and_too_long_texts(sandbox):
    sandbox.publish(text="Curso de soldadura")
    with pytest.raises(
        Rejected, match=re.escape(gettext("You already published this same text in the last 24 hours."))
    ):
        sandbox.publish(text="Curso de soldadura")
    with pytest.raises(Rejected, match=str(MAX_LENGTH)):
        sandbox.publish(text="x" * (MAX_LENGTH + 1))
    assert SandboxPost.objects.count() == 1


@pytest.mark.parametrize(
    ("marker", "error"),
    [
        ("[sandbox:rate-limited]", RateLimited),
        ("[sandbox:transient]", Transient),
        ("[sandbox:rejected]", Rejected),
        ("[sandbox:expired]", AuthorizationExpired),
    ],
)
def test_a_marker_in_the_text_makes_that_call_fail_without_publishing(sandbox, marker, error):
    with pytest.raises(error) as excinfo:
        sandbox.publish(text=f"Prueba {marker}")
    assert not SandboxPost.objects.exists()
    if error is RateLimited:
        assert excinfo.value.until > timezone.now()
    if error is Transient:
        assert excinfo.value.request_sent is False


def test_timeout_marker_publishes_then_fails_and_the_post_can_be_found(sandbox):
    started = timezone.now()
    with pytest.raises(Transient) as excinfo:
        sandbox.publish(text="Jornada de puertas abiertas [sandbox:timeout]")

    assert excinfo.value.request_sent is True
    [found] = sandbox.find_recent_posts(since=started)
    assert found.text == "Jornada de puertas abiertas [sandbox:timeout]"
    assert found.external_id == SandboxPost.objects.get().external_id


def test_find_recent_posts_marks_public_replies_and_leaves_out_older_deleted_and_private_ones(
    sandbox, sandbox_account, rng
):
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        sandbox.publish(text="Antiguo")
    since = timezone.now() - timedelta(hours=1)
    kept = sandbox.publish(text="Reciente")
    gone = sandbox.publish(text="Borrado")
    sandbox.delete(external_id=gone.external_id)
    mention = _citizen_message(sandbox_account, rng, InboundKind.MENTION)
    answer = sandbox.reply(
        target=ReplyTarget(InboundKind.MENTION, mention.thread_key, mention.external_id, mention.author_id),
        text="Gracias",
    )
    message = _citizen_message(sandbox_account, rng, InboundKind.PRIVATE_MESSAGE)
    sandbox.reply(
        target=ReplyTarget(
            InboundKind.PRIVATE_MESSAGE, message.thread_key, message.external_id, message.author_id
        ),
        text="Te escribimos por privado",
    )

    found = sandbox.find_recent_posts(since=since)

    assert {(post.external_id, post.is_reply) for post in found} == {
        (kept.external_id, False),
        (answer.external_id, True),
    }


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (SandboxFailure.RATE_LIMITED, RateLimited),
        (SandboxFailure.TRANSIENT, Transient),
        (SandboxFailure.REJECTED, Rejected),
        (SandboxFailure.AUTHORIZATION_EXPIRED, AuthorizationExpired),
    ],
)
def test_the_account_failure_setting_makes_every_call_fail(sandbox, sandbox_account, failure, error):
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(failure=failure)
    with pytest.raises(error):
        sandbox.fetch_inbound(cursor={})
    with pytest.raises(error):
        sandbox.publish(text="Hola")


def test_a_token_issued_again_makes_the_old_one_expire(sandbox_channel):
    sandbox_account_open(handle=sandbox_channel.handle, display_name="Empleo Test")
    with pytest.raises(AuthorizationExpired):
        connector_for(sandbox_channel).fetch_inbound(cursor={})


def test_citizens_write_in_spanish_and_valencian_about_the_desk_topics(sandbox, sandbox_account, rng):
    sandbox.publish(text="Abierta la inscripción en cursos de formación")
    events = [sandbox_citizen_writes(account=sandbox_account, rng=rng) for _ in range(60)]

    assert {event.kind for event in events} == set(InboundKind)
    languages = {citizen.author_id: citizen.language for citizen in CITIZENS}
    assert {languages[event.author_id] for event in events} == {SPANISH, VALENCIAN}
    assert all(event.text and not event.is_from_us for event in events)
    for event in events:
        if event.kind == InboundKind.MENTION:
            assert f"@{sandbox_account.handle}" in event.text
            assert event.thread_key == event.external_id
        if event.kind == InboundKind.PUBLIC_COMMENT:
            assert SandboxPost.objects.filter(
                external_id=event.about_post, kind=SandboxPostKind.POST
            ).exists()
        if event.kind == InboundKind.PRIVATE_MESSAGE:
            assert event.thread_key == f"dm-{event.author_id}"


def test_without_posts_citizens_mention_instead_of_commenting(sandbox_account, rng):
    events = [sandbox_citizen_writes(account=sandbox_account, rng=rng) for _ in range(30)]
    assert InboundKind.PUBLIC_COMMENT not in {event.kind for event in events}


def test_fetch_inbound_returns_messages_after_the_cursor_oldest_first(sandbox, sandbox_account, rng):
    first = [sandbox_citizen_writes(account=sandbox_account, rng=rng) for _ in range(3)]

    page = sandbox.fetch_inbound(cursor={})
    assert [message.external_id for message in page.messages] == [event.external_id for event in first]
    assert page.messages[0].text == first[0].text
    assert page.messages[0].author_name == first[0].author_name
    assert page.messages[0].created_at.tzinfo is not None

    later = sandbox_citizen_writes(account=sandbox_account, rng=rng)
    next_page = sandbox.fetch_inbound(cursor=page.cursor)
    assert [message.external_id for message in next_page.messages] == [later.external_id]
    assert sandbox.fetch_inbound(cursor=next_page.cursor) == ([], next_page.cursor)


def test_fetch_inbound_refuses_a_cursor_it_did_not_make(sandbox):
    with pytest.raises(Rejected):
        sandbox.fetch_inbound(cursor={"after": "yesterday"})


def test_public_reply_is_published_and_echoed_back_as_our_message(sandbox, sandbox_account, rng):
    sandbox.publish(text="Oferta: auxiliar administrativo")
    comment = _citizen_message(sandbox_account, rng, InboundKind.PUBLIC_COMMENT)
    cursor = sandbox.fetch_inbound(cursor={}).cursor

    result = sandbox.reply(
        target=ReplyTarget(
            InboundKind.PUBLIC_COMMENT, comment.thread_key, comment.external_id, comment.author_id
        ),
        text="Sí, hay plazas en todas las oficinas.",
    )

    post = SandboxPost.objects.get(external_id=result.external_id)
    assert post.kind == SandboxPostKind.REPLY
    assert post.in_reply_to == comment.external_id
    [echo] = sandbox.fetch_inbound(cursor=cursor).messages
    assert echo.external_id == result.external_id
    assert echo.is_from_us is True
    assert echo.thread_key == comment.thread_key
    assert echo.about_post == comment.about_post


def test_private_reply_only_within_the_window(sandbox, sandbox_account, rng):
    message = _citizen_message(sandbox_account, rng, InboundKind.PRIVATE_MESSAGE)
    target = ReplyTarget(
        InboundKind.PRIVATE_MESSAGE, message.thread_key, message.external_id, message.author_id
    )

    result = sandbox.reply(target=target, text="Puede cambiar la cita en la sede electrónica.")
    assert SandboxPost.objects.get(external_id=result.external_id).kind == SandboxPostKind.PRIVATE_REPLY

    with (
        time_machine.travel(timezone.now() + timedelta(days=8)),
        pytest.raises(
            Rejected, match=re.escape(gettext("The time to answer this private conversation has run out."))
        ),
    ):
        sandbox.reply(target=target, text="¿Pudo cambiarla?")


def test_reply_to_something_that_does_not_exist_is_rejected(sandbox):
    with pytest.raises(Rejected):
        sandbox.reply(target=ReplyTarget(InboundKind.MENTION, "nope", "nope", "someone"), text="Hola")


def test_reply_markers_fail_on_demand(sandbox, sandbox_account, rng):
    mention = _citizen_message(sandbox_account, rng, InboundKind.MENTION)
    target = ReplyTarget(InboundKind.MENTION, mention.thread_key, mention.external_id, mention.author_id)
    with pytest.raises(RateLimited):
        sandbox.reply(target=target, text="Hola [sandbox:rate-limited]")
    assert not SandboxPost.objects.filter(kind=SandboxPostKind.REPLY).exists()


def test_hide_and_unhide_a_comment(sandbox, sandbox_account, rng):
    sandbox.publish(text="Convocatoria de empleo público")
    comment = _citizen_message(sandbox_account, rng, InboundKind.PUBLIC_COMMENT)

    sandbox.hide_comment(external_id=comment.external_id)
    assert SandboxEvent.objects.get(pk=comment.pk).hidden is True
    sandbox.unhide_comment(external_id=comment.external_id)
    assert SandboxEvent.objects.get(pk=comment.pk).hidden is False
    with pytest.raises(Rejected):
        sandbox.hide_comment(external_id="not-a-comment")


def test_delete_is_idempotent_and_rejects_unknown_posts(sandbox):
    result = sandbox.publish(text="Se borrará")
    sandbox.delete(external_id=result.external_id)
    sandbox.delete(external_id=result.external_id)
    assert SandboxPost.objects.get(external_id=result.external_id).deleted_at is not None
    with pytest.raises(Rejected):
        sandbox.delete(external_id="404")


def test_metrics_are_plausible_grow_with_time_and_count_real_comments(sandbox, sandbox_account, rng):
    result = sandbox.publish(text="Feria de empleo el jueves")
    comments = {
        _citizen_message(sandbox_account, rng, InboundKind.PUBLIC_COMMENT).external_id for _ in range(2)
    }

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        [early] = sandbox.fetch_metrics(external_ids=[result.external_id, "unknown"])
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        [late] = sandbox.fetch_metrics(external_ids=[result.external_id])

    assert early.external_id == result.external_id
    assert 0 < early.impressions < late.impressions <= 3000
    assert 0 <= late.likes < late.impressions
    assert late.shares <= late.likes
    assert late.comments == len(comments) == 2
