"""The composer: a variant per channel, counted the network's way, errors before publishing."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from networks.models import Channel, Network
from scheduling.composer import variant_check
from scheduling.models import Delivery, DeliveryState, Post, PostStatus

URL = reverse("publishing:compose")


def test_x_counts_a_link_as_23_and_the_sandbox_counts_characters(sandbox_channel):
    x = Channel(network=Network.X, display_name="X")
    assert (
        variant_check(channel=x, text="a" * 10, link="https://example.org/" + "x" * 100).length == 10 + 1 + 23
    )
    check = variant_check(channel=sandbox_channel, text="a" * 499, link="https://e.org")
    assert (check.length, check.limit, check.remaining) == (513, 500, -13)
    assert check.problems


def test_bluesky_counts_graphemes_and_instagram_needs_an_image():
    bluesky = variant_check(channel=Channel(network=Network.BLUESKY), text="👩‍👩‍👧" * 300, link="")
    assert (bluesky.length, bluesky.problems) == (300, [])
    instagram = variant_check(channel=Channel(network=Network.INSTAGRAM), text="Hola", link="")
    assert instagram.problems


def test_publish_now_makes_one_delivery_per_channel_with_its_own_text(
    manager_client, manager, sandbox_channel
):
    response = manager_client.post(
        URL,
        {
            "text": "Curso gratuito de cuidados",
            "link": "https://example.org/curso",
            "channels": [sandbox_channel.pk],
            f"variant_{sandbox_channel.pk}": "Curso gratuito: ¡apúntate!",
            "when": "now",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get()
    delivery = Delivery.objects.get()
    assert (post.status, post.created_by, post.link) == (
        PostStatus.SCHEDULED,
        manager,
        "https://example.org/curso",
    )
    assert (delivery.channel, delivery.text, delivery.state) == (
        sandbox_channel,
        "Curso gratuito: ¡apúntate!",
        DeliveryState.SCHEDULED,
    )
    assert delivery.due_at <= timezone.now()


def test_schedule_at_a_time_uses_the_main_text_when_no_variant(manager_client, sandbox_channel):
    manager_client.post(
        URL,
        {"text": "Feria de empleo", "channels": [sandbox_channel.pk], "when": "at", "at": "2030-05-06T19:30"},
    )
    delivery = Delivery.objects.get()
    assert delivery.text == "Feria de empleo"
    assert timezone.localtime(delivery.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2030-05-06 19:30"


def test_a_text_too_long_is_refused_before_anything_is_scheduled(manager_client, sandbox_channel):
    response = manager_client.post(URL, {"text": "a" * 501, "channels": [sandbox_channel.pk], "when": "now"})
    assert response.status_code == 400
    assert not Post.objects.exists() and not Delivery.objects.exists()


def test_a_draft_keeps_no_deliveries_and_finishing_a_draft_schedules_it(manager_client, sandbox_channel):
    manager_client.post(URL, {"text": "Borrador", "channels": [sandbox_channel.pk], "when": "draft"})
    draft = Post.objects.get(status=PostStatus.DRAFT)
    assert not Delivery.objects.exists()

    page = manager_client.get(URL, {"post": draft.pk})
    assert "Borrador" in page.content.decode()
    manager_client.post(
        f"{URL}?post={draft.pk}", {"text": "Ya listo", "channels": [sandbox_channel.pk], "when": "now"}
    )
    draft.refresh_from_db()
    assert (draft.status, draft.text, Post.objects.count()) == (PostStatus.SCHEDULED, "Ya listo", 1)
    assert Delivery.objects.get().post == draft


def test_the_live_counters_are_the_same_fragment_as_the_page(manager_client, sandbox_channel):
    response = manager_client.post(
        reverse("publishing:compose_check"), {"text": "Hola", f"variant_{sandbox_channel.pk}": "a" * 600}
    )
    assert response.status_code == 200
    assert [template.name for template in response.templates] == ["scheduling/_compose_counters.html"]
    assert "600" in response.content.decode()


@pytest.mark.parametrize("who", ["supervisor_client", "client"])
def test_only_the_manager_composes(request, who, sandbox_channel, outsider):
    client = request.getfixturevalue(who)
    if who == "client":
        client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"text": "x", "channels": [sandbox_channel.pk], "when": "now"}).status_code == 403
    assert not Delivery.objects.exists()


def test_a_past_time_is_published_at_once(manager_client, sandbox_channel):
    past = timezone.localtime(timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    manager_client.post(URL, {"text": "Ya", "channels": [sandbox_channel.pk], "when": "at", "at": past})
    assert Delivery.objects.get().due_at <= timezone.now()
