"""Posts made outside SocialDesk: picked up from the channel's timeline once, never one of ours,
offered or echoed as the channel's rule says; the cursor only moves after a good read. And the page
where the manager echoes them or sets them aside."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inbox.services import message_ingest
from networks.base import InboundKind
from networks.models import ChannelStatus, SandboxFailure, SandboxPost, SandboxPostKind
from networks.registry import connector_for
from scheduling.dispatch import deliveries_claim_due, delivery_publish, delivery_reconcile
from scheduling.models import (
    AudienceSegment,
    Delivery,
    DeliveryState,
    EchoRule,
    EchoState,
    Post,
    PostOrigin,
    PostStatus,
)
from scheduling.tasks import pick_up_outside_posts
from scheduling.timeline import (
    FIRST_LOOK_BACK,
    PICKUP_SETTLE,
    TIMELINE_OVERLAP,
    channel_timeline_pick_up,
    channels_for_timeline,
)
from socialdesk.beat import BEAT_SCHEDULE
from socialdesk.models import WorkingInterval
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.networks.fixtures import inbound
from tests.socialdesk.test_layout import csp_violations, page_of

# A Thursday at 13:00 in Madrid.
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def office_hours(db):
    """Monday to Friday, 08:00–15:00 in Madrid: NOW (Thursday 13:00 there) is working time."""
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=weekday, starts_at=time(8), ends_at=time(15)) for weekday in range(5)
    )


@pytest.fixture
def job_seekers(db) -> AudienceSegment:
    segment, _ = AudienceSegment.objects.get_or_create(
        slug="job-seekers", defaults={"name": "Personas que buscan empleo"}
    )
    return segment


def made_on_the_network(
    account, text: str, *, minutes_ago: int = 30, external_id: str = "", in_reply_to: str = ""
) -> SandboxPost:
    """A post the manager published from the network's own app (a public reply with `in_reply_to`)."""
    return SandboxPost.objects.create(
        account=account,
        external_id=external_id or f"phone-{SandboxPost.objects.count() + 1}",
        kind=SandboxPostKind.REPLY if in_reply_to else SandboxPostKind.POST,
        text=text,
        in_reply_to=in_reply_to,
        thread_key=in_reply_to,
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def outside_deliveries():
    return Delivery.objects.filter(post__origin=PostOrigin.NETWORK)


# --- Picking up -------------------------------------------------------------------------------------


def test_a_post_made_on_the_network_is_recorded_as_published_and_offered(
    sandbox_account, sandbox_channel, job_seekers
):
    EchoRule.objects.create(channel=sandbox_channel, default_segment=job_seekers)
    on_network = made_on_the_network(sandbox_account, "Hoy, jornada de puertas abiertas en el SEPE")

    (delivery,) = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    delivery.refresh_from_db()
    assert (delivery.channel, delivery.state) == (sandbox_channel, DeliveryState.PUBLISHED)
    assert (delivery.external_id, delivery.url) == (on_network.external_id, on_network.url)
    assert delivery.published_at == delivery.scheduled_at == delivery.due_at == on_network.created_at
    assert delivery.text == on_network.text
    post = delivery.post
    assert (post.origin, post.status, post.echo_state) == (
        PostOrigin.NETWORK,
        PostStatus.SCHEDULED,
        EchoState.OFFERED,
    )
    assert (post.text, post.segment) == (on_network.text, job_seekers)


def test_picking_up_twice_records_each_post_once(sandbox_account, sandbox_channel):
    made_on_the_network(sandbox_account, "Uno")
    made_on_the_network(sandbox_account, "Dos")

    assert len(channel_timeline_pick_up(channel=sandbox_channel, now=NOW)) == 2
    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []
    EchoRule.objects.filter(channel=sandbox_channel).update(timeline_checked_at=None)  # read it all again
    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []

    assert outside_deliveries().count() == 2
    assert Post.objects.filter(origin=PostOrigin.NETWORK).count() == 2


def test_a_channel_without_a_rule_gets_the_default_one(sandbox_account, sandbox_channel):
    made_on_the_network(sandbox_account, "Sin regla todavía")

    channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    rule = EchoRule.objects.get(channel=sandbox_channel)
    assert rule.is_enabled and not rule.auto_echo_outside_posts
    assert outside_deliveries().get().post.echo_state == EchoState.OFFERED


def test_our_own_deliveries_and_echoes_are_not_taken_for_outside_posts(
    make_delivery, sandbox_account, sandbox_channel
):
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        ours = make_delivery("Publicado desde SocialDesk")
        deliveries_claim_due(now=timezone.now(), limit=10)
        delivery_publish(delivery_id=ours.pk)
    echoed = made_on_the_network(sandbox_account, "Un eco ya publicado")
    make_delivery(
        "Un eco ya publicado",
        state=DeliveryState.PUBLISHED,
        external_id=echoed.external_id,
        is_echo=True,
        echo_of=ours,
    )

    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []
    assert not outside_deliveries().exists()


def test_the_cursor_keeps_an_overlap_and_a_very_new_post_waits_for_the_next_run(
    sandbox_account, sandbox_channel
):
    made_on_the_network(sandbox_account, "Recién publicado", minutes_ago=1)

    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []

    rule = EchoRule.objects.get(channel=sandbox_channel)
    assert rule.timeline_checked_at == NOW - TIMELINE_OVERLAP
    later = NOW + PICKUP_SETTLE
    with time_machine.travel(later, tick=False):
        assert len(channel_timeline_pick_up(channel=sandbox_channel, now=later)) == 1
    rule.refresh_from_db()
    assert rule.timeline_checked_at == later - TIMELINE_OVERLAP


def test_the_first_read_looks_back_two_days_only(sandbox_account, sandbox_channel):
    made_on_the_network(
        sandbox_account, "Antiguo", minutes_ago=int(FIRST_LOOK_BACK.total_seconds() // 60) + 5
    )
    made_on_the_network(sandbox_account, "De ayer", minutes_ago=24 * 60)

    picked_up = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    assert [delivery.text for delivery in picked_up] == ["De ayer"]


def test_a_post_of_ours_still_unconfirmed_is_left_for_later_then_recognised(
    make_delivery, sandbox_account, sandbox_channel
):
    with time_machine.travel(NOW - timedelta(minutes=20), tick=False):
        ours = make_delivery("Feria de empleo [sandbox:timeout]")
        deliveries_claim_due(now=timezone.now(), limit=10)
        delivery_publish(delivery_id=ours.pk)  # on the network, but we do not know its id yet
    ours.refresh_from_db()
    assert ours.state == DeliveryState.UNKNOWN

    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []

    rule = EchoRule.objects.get(channel=sandbox_channel)
    assert rule.timeline_checked_at < ours.sent_at
    delivery_reconcile(delivery_id=ours.pk)
    ours.refresh_from_db()
    assert ours.state == DeliveryState.PUBLISHED
    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []
    assert not outside_deliveries().exists()
    rule.refresh_from_db()
    assert rule.timeline_checked_at == NOW - TIMELINE_OVERLAP


def test_answers_to_citizens_the_inbox_knows_are_not_outside_posts(sandbox_account, sandbox_channel):
    answer = made_on_the_network(sandbox_account, "@lucia Puedes pedir cita en la web")
    message_ingest(
        channel=sandbox_channel,
        inbound=inbound(
            answer.external_id,
            kind=InboundKind.PUBLIC_COMMENT,
            text=answer.text,
            author_id=sandbox_account.account_id,
            is_from_us=True,
            created_at=answer.created_at,
        ),
    )
    made_on_the_network(sandbox_account, "Un post de verdad")

    picked_up = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    assert [delivery.text for delivery in picked_up] == ["Un post de verdad"]


def test_a_reply_the_network_marks_as_such_is_not_offered_even_before_the_inbox_knows_it(
    sandbox_account, sandbox_channel
):
    answer = made_on_the_network(
        sandbox_account, "@lucia El plazo abre el lunes", in_reply_to="citizen-question-1"
    )
    made_on_the_network(sandbox_account, "Un post de verdad")
    on_timeline = connector_for(sandbox_channel).find_recent_posts(since=NOW - FIRST_LOOK_BACK)
    assert (answer.external_id, True) in {(post.external_id, post.is_reply) for post in on_timeline}

    picked_up = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    assert [delivery.text for delivery in picked_up] == ["Un post de verdad"]
    assert not Delivery.objects.filter(external_id=answer.external_id).exists()
    assert not Post.objects.filter(text=answer.text).exists()


def test_a_channel_that_echoes_outside_posts_by_itself_plans_them_at_once(
    sandbox_account, sandbox_channel, job_seekers
):
    EchoRule.objects.create(
        channel=sandbox_channel, auto_echo_outside_posts=True, default_segment=job_seekers
    )
    made_on_the_network(sandbox_account, "Convocatoria de empleo público")

    (delivery,) = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    echoes = Delivery.objects.filter(echo_of=delivery)
    assert echoes.exists()
    assert all(echo.is_echo and echo.state == DeliveryState.SCHEDULED for echo in echoes)
    assert all(echo.scheduled_at > NOW for echo in echoes)
    delivery.post.refresh_from_db()
    assert delivery.post.echo_state == EchoState.PLANNED


def test_an_outside_post_made_off_hours_is_offered_even_when_the_channel_echoes_by_itself(
    sandbox_account, sandbox_channel, job_seekers
):
    EchoRule.objects.create(
        channel=sandbox_channel, auto_echo_outside_posts=True, default_segment=job_seekers
    )
    # Wednesday 4 March 2026, 20:00 in Madrid: after office hours.
    evening = datetime(2026, 3, 4, 19, 0, tzinfo=UTC)
    made_on_the_network(
        sandbox_account,
        "Publicado por la tarde",
        minutes_ago=int((NOW - evening).total_seconds() // 60),
    )

    (delivery,) = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    assert not Delivery.objects.filter(echo_of=delivery).exists()
    delivery.post.refresh_from_db()
    assert delivery.post.echo_state == EchoState.OFFERED


def test_if_planning_fails_the_post_is_offered_not_lost(sandbox_account, sandbox_channel, monkeypatch):
    EchoRule.objects.create(channel=sandbox_channel, auto_echo_outside_posts=True)
    made_on_the_network(sandbox_account, "El planificador falla")

    def broken_planner(**kwargs):
        raise RuntimeError("planner bug")

    monkeypatch.setattr("scheduling.timeline.echoes_plan", broken_planner)

    (delivery,) = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    delivery.post.refresh_from_db()
    assert delivery.post.echo_state == EchoState.OFFERED
    assert outside_deliveries().count() == 1


def test_a_channel_that_does_not_echo_records_without_offering(sandbox_account, sandbox_channel):
    EchoRule.objects.create(channel=sandbox_channel, is_enabled=False)
    made_on_the_network(sandbox_account, "Sin ecos en este canal")

    (delivery,) = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)

    assert delivery.post.echo_state == EchoState.NONE


def test_rate_limited_the_cursor_stays_nothing_is_lost_and_the_channel_waits(
    sandbox_account, sandbox_channel
):
    checked_until = NOW - timedelta(hours=3)
    EchoRule.objects.create(channel=sandbox_channel, timeline_checked_at=checked_until)
    made_on_the_network(sandbox_account, "Publicado mientras la red nos frena")
    sandbox_account.failure = SandboxFailure.RATE_LIMITED
    sandbox_account.save()

    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []

    assert EchoRule.objects.get(channel=sandbox_channel).timeline_checked_at == checked_until
    assert not outside_deliveries().exists()
    assert channels_for_timeline(now=NOW) == []
    sandbox_account.failure = ""
    sandbox_account.save()
    later = NOW + timedelta(minutes=3)
    assert channels_for_timeline(now=later) == [sandbox_channel.pk]
    assert len(channel_timeline_pick_up(channel=sandbox_channel, now=later)) == 1


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (SandboxFailure.TRANSIENT, ChannelStatus.ACTIVE),
        (SandboxFailure.AUTHORIZATION_EXPIRED, ChannelStatus.NEEDS_RECONNECT),
    ],
)
def test_a_failed_read_leaves_the_cursor(sandbox_account, sandbox_channel, failure, status):
    checked_until = NOW - timedelta(hours=3)
    EchoRule.objects.create(channel=sandbox_channel, timeline_checked_at=checked_until)
    made_on_the_network(sandbox_account, "Otro post")
    sandbox_account.failure = failure
    sandbox_account.save()

    assert channel_timeline_pick_up(channel=sandbox_channel, now=NOW) == []

    assert EchoRule.objects.get(channel=sandbox_channel).timeline_checked_at == checked_until
    sandbox_channel.refresh_from_db()
    assert sandbox_channel.status == status


def test_the_beat_task_reads_every_active_channel(
    sandbox_account, sandbox_channel, django_capture_on_commit_callbacks
):
    made_on_the_network(sandbox_account, "Por el móvil")

    with django_capture_on_commit_callbacks(execute=True):
        assert pick_up_outside_posts() == 1

    assert outside_deliveries().count() == 1
    assert BEAT_SCHEDULE["pick-up-outside-posts"]["task"] == pick_up_outside_posts.name
    assert BEAT_SCHEDULE["pick-up-outside-posts"]["schedule"] == 5 * 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_reading_the_same_timeline_record_each_post_once(sandbox_account, sandbox_channel):
    for n in range(20):
        made_on_the_network(sandbox_account, f"Post {n}")
    start = threading.Barrier(2)
    picked_up: list[list[Delivery]] = [[], []]
    errors = []

    def worker(index):
        try:
            connection.ensure_connection()
            start.wait(10)
            picked_up[index] = channel_timeline_pick_up(channel=sandbox_channel, now=NOW)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(picked_up[0]) + len(picked_up[1]) == 20
    assert outside_deliveries().count() == 20
    assert Post.objects.filter(origin=PostOrigin.NETWORK).count() == 20  # no post left without delivery


# --- The page of outside posts -------------------------------------------------------------------------


@pytest.fixture
def offered(sandbox_account, sandbox_channel) -> Delivery:
    made_on_the_network(sandbox_account, "Primero <b>sin</b> formato")
    made_on_the_network(sandbox_account, "El más nuevo", minutes_ago=10)
    channel_timeline_pick_up(channel=sandbox_channel, now=NOW)
    return outside_deliveries().get(text="El más nuevo")


@pytest.mark.parametrize("role", ["manager", "supervisor"])
def test_the_page_lists_offered_posts_newest_first(client, request, role, offered):
    client.force_login(request.getfixturevalue(role))

    response = client.get(reverse("publishing:outside"))

    assert response.status_code == 200
    # Links to the post on its network are navigation, which the policy does not restrict.
    assert [problem for problem in csp_violations(response) if not problem.startswith("<a ")] == []
    html = response.content.decode()
    assert html.index("El más nuevo") < html.index("Primero")
    assert "&lt;b&gt;sin&lt;/b&gt;" in html
    assert page_of(response).find("a", href=offered.url)
    forms = page_of(response).find("form", action=reverse("publishing:outside_echo", args=[offered.post_id]))
    assert bool(forms) is (role == "manager")


def test_the_page_costs_the_same_queries_however_many_posts_wait(
    manager_client, sandbox_account, sandbox_channel
):
    made_on_the_network(sandbox_account, "Uno")
    channel_timeline_pick_up(channel=sandbox_channel, now=NOW)
    with CaptureQueriesContext(connection) as one:
        manager_client.get(reverse("publishing:outside"))
    for n in range(10):
        made_on_the_network(sandbox_account, f"Más {n}")
    EchoRule.objects.filter(channel=sandbox_channel).update(timeline_checked_at=None)
    channel_timeline_pick_up(channel=sandbox_channel, now=NOW)
    with CaptureQueriesContext(connection) as eleven:
        response = manager_client.get(reverse("publishing:outside"))

    assert len(response.context["items"]) == 11
    assert len(eleven) == len(one)


def test_echo_it_refuses_an_unknown_audience(manager_client, offered):
    manager_client.post(
        reverse("publishing:outside_echo", args=[offered.post_id]),
        {f"post-{offered.post_id}-segment": "9999"},
    )

    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.OFFERED
    assert not Delivery.objects.filter(echo_of=offered).exists()


def test_echo_it_plans_the_echoes_for_the_chosen_audience(manager_client, manager, offered, job_seekers):
    response = manager_client.post(
        reverse("publishing:outside_echo", args=[offered.post_id]),
        {f"post-{offered.post_id}-segment": job_seekers.pk},
    )

    assert response.status_code == 302
    offered.post.refresh_from_db()
    assert offered.post.segment == job_seekers
    assert offered.post.echo_state == EchoState.PLANNED
    assert Delivery.objects.filter(echo_of=offered, is_echo=True).exists()
    assert "El más nuevo" not in manager_client.get(reverse("publishing:outside")).content.decode()
    event = AuditEvent.objects.get(action=AuditAction.POST_PUBLISHED)
    assert (event.actor, event.target_id) == (manager, str(offered.post_id))


def test_echo_it_when_nothing_can_be_planned_keeps_it_offered(manager_client, offered):
    EchoRule.objects.filter(channel=offered.channel).update(is_enabled=False)

    response = manager_client.post(reverse("publishing:outside_echo", args=[offered.post_id]), follow=True)

    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.OFFERED
    assert [message.level_tag for message in response.context["messages"]] == ["warning"]


def test_dont_echo_sets_it_aside(manager_client, offered):
    response = manager_client.post(reverse("publishing:outside_dismiss", args=[offered.post_id]))

    assert response.status_code == 302
    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.DISMISSED
    assert not Delivery.objects.filter(echo_of=offered).exists()


def test_a_post_already_set_aside_is_not_echoed(manager_client, offered):
    Post.objects.filter(pk=offered.post_id).update(echo_state=EchoState.DISMISSED)

    manager_client.post(reverse("publishing:outside_echo", args=[offered.post_id]), {})

    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.DISMISSED
    assert not Delivery.objects.filter(echo_of=offered).exists()


def test_the_supervisor_can_neither_echo_nor_dismiss(supervisor_client, offered):
    echo = supervisor_client.post(reverse("publishing:outside_echo", args=[offered.post_id]), {})
    dismiss = supervisor_client.post(reverse("publishing:outside_dismiss", args=[offered.post_id]))

    assert (echo.status_code, dismiss.status_code) == (403, 403)
    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.OFFERED
    assert not Delivery.objects.filter(echo_of=offered).exists()


def test_the_actions_are_post_only(manager_client, offered):
    assert (
        manager_client.get(reverse("publishing:outside_dismiss", args=[offered.post_id])).status_code == 405
    )
    offered.post.refresh_from_db()
    assert offered.post.echo_state == EchoState.OFFERED
