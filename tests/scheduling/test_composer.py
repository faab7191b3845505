"""The composer: a variant per channel, counted the network's way, errors before publishing; who
the post is for and its topic; how the publishing pages are reached."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from curation.models import Topic
from curation.services import source_create
from networks.models import Channel, Network
from scheduling.composer import variant_check
from scheduling.models import AudienceSegment, Delivery, DeliveryState, EchoRule, Post, PostStatus
from scheduling.services import post_draft_from_item
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.curation.items import make_item
from tests.networks.fixtures import make_sandbox_channel

URL = reverse("publishing:compose")
CHECK_URL = reverse("publishing:compose_check")


@pytest.fixture
def job_seekers(db) -> AudienceSegment:
    segment, _ = AudienceSegment.objects.get_or_create(
        slug="job-seekers", defaults={"name": "Personas que buscan empleo"}
    )
    return segment


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
    manager_client, manager, sandbox_channel, job_seekers
):
    response = manager_client.post(
        URL,
        {
            "text": "Curso gratuito de cuidados",
            "link": "https://example.org/curso",
            "channels": [sandbox_channel.pk],
            f"variant_{sandbox_channel.pk}": "Curso gratuito: ¡apúntate!",
            "segment": job_seekers.pk,
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
    event = AuditEvent.objects.get(action=AuditAction.POST_PUBLISHED)
    assert (event.actor, event.target_id, event.details["live"]) == (manager, str(post.pk), True)
    assert event.details["channels"] == [sandbox_channel.pk]


def test_schedule_at_a_time_uses_the_main_text_when_no_variant(manager_client, sandbox_channel, job_seekers):
    response = manager_client.post(
        URL,
        {
            "text": "Feria de empleo",
            "channels": [sandbox_channel.pk],
            "segment": job_seekers.pk,
            "when": "at",
            "at": "2030-05-06T19:30",
        },
        follow=True,
    )
    delivery = Delivery.objects.get()
    assert delivery.text == "Feria de empleo"
    assert timezone.localtime(delivery.scheduled_at).strftime("%Y-%m-%d %H:%M") == "2030-05-06 19:30"
    # The message says when, in the desk's language and time zone.
    assert "6 de mayo de 2030 a las 19:30" in response.content.decode()


def test_a_text_too_long_is_refused_before_anything_is_scheduled(manager_client, sandbox_channel):
    response = manager_client.post(URL, {"text": "a" * 501, "channels": [sandbox_channel.pk], "when": "now"})
    assert response.status_code == 400
    assert not Post.objects.exists() and not Delivery.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.POST_PUBLISHED).exists()


def test_a_draft_keeps_no_deliveries_and_finishing_a_draft_schedules_it(
    manager_client, sandbox_channel, job_seekers
):
    manager_client.post(URL, {"text": "Borrador", "channels": [sandbox_channel.pk], "when": "draft"})
    draft = Post.objects.get(status=PostStatus.DRAFT)
    assert not Delivery.objects.exists()

    page = manager_client.get(URL, {"post": draft.pk})
    assert "Borrador" in page.content.decode()
    manager_client.post(
        f"{URL}?post={draft.pk}",
        {"text": "Ya listo", "channels": [sandbox_channel.pk], "segment": job_seekers.pk, "when": "now"},
    )
    draft.refresh_from_db()
    assert (draft.status, draft.text, Post.objects.count()) == (PostStatus.SCHEDULED, "Ya listo", 1)
    assert Delivery.objects.get().post == draft


def test_the_live_counters_are_the_same_fragment_as_the_page(manager_client, sandbox_channel):
    response = manager_client.post(CHECK_URL, {"text": "Hola", f"variant_{sandbox_channel.pk}": "a" * 600})
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


def test_a_past_time_is_published_at_once(manager_client, sandbox_channel, job_seekers):
    past = timezone.localtime(timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    manager_client.post(
        URL,
        {"text": "Ya", "channels": [sandbox_channel.pk], "segment": job_seekers.pk, "when": "at", "at": past},
    )
    assert Delivery.objects.get().due_at <= timezone.now()


# --- Who the post is for, and its topic ----------------------------------------------------------


def test_the_audience_and_the_topic_are_saved_with_the_post(manager_client, sandbox_channel, job_seekers):
    topic = Topic.objects.get(slug="employment")
    manager_client.post(
        URL,
        {
            "text": "Ofertas de la semana",
            "channels": [sandbox_channel.pk],
            "segment": job_seekers.pk,
            "topic": topic.pk,
            "when": "now",
        },
    )
    post = Post.objects.get()
    assert (post.segment, post.topic, post.status) == (job_seekers, topic, PostStatus.SCHEDULED)


def test_publishing_needs_an_audience_a_draft_does_not(manager_client, sandbox_channel):
    refused = manager_client.post(
        URL, {"text": "¿Para quién?", "channels": [sandbox_channel.pk], "when": "now"}
    )
    assert refused.status_code == 400
    assert refused.context["form"].has_error("segment")
    assert not Post.objects.exists()

    manager_client.post(URL, {"text": "¿Para quién?", "channels": [sandbox_channel.pk], "when": "draft"})
    assert Post.objects.get().segment is None


def test_one_channel_chosen_lends_its_default_audience(manager_client, sandbox_channel):
    workers = AudienceSegment.objects.get(slug="workers")
    EchoRule.objects.create(channel=sandbox_channel, default_segment=workers)
    _, other = make_sandbox_channel("otra", "Otra cuenta")
    data = {"text": "Charla en la pausa del almuerzo", "channels": [sandbox_channel.pk], "when": "now"}

    check = manager_client.post(CHECK_URL, data).content.decode()
    audience = check[check.index('<p class="compose-audience">') :].split("</p>")[0]
    assert workers.name in audience and sandbox_channel.display_name in audience

    two_channels = manager_client.post(URL, {**data, "channels": [sandbox_channel.pk, other.pk]})
    assert two_channels.status_code == 400 and two_channels.context["form"].has_error("segment")
    manager_client.post(URL, data)
    assert Post.objects.get().segment == workers


def test_a_chosen_audience_wins_over_the_channels_default(manager_client, sandbox_channel, job_seekers):
    EchoRule.objects.create(
        channel=sandbox_channel, default_segment=AudienceSegment.objects.get(slug="workers")
    )
    manager_client.post(
        URL,
        {
            "text": "Para quien busca",
            "channels": [sandbox_channel.pk],
            "segment": job_seekers.pk,
            "when": "now",
        },
    )
    assert Post.objects.get().segment == job_seekers


# --- Links, the way each network takes them -------------------------------------------------------


def test_where_the_link_goes_decides_how_it_counts():
    link = "https://empleo.example.org/ofertas/" + "x" * 60
    facebook, instagram = Channel(network=Network.FACEBOOK), Channel(network=Network.INSTAGRAM)
    x = Channel(network=Network.X)

    assert variant_check(channel=facebook, text="Hola", link=link).length == 4  # a card, apart
    assert variant_check(channel=instagram, text="Hola", link=link).length == 4 + 2 + len(link)
    assert variant_check(channel=x, text="Hola", link=link).length == 4 + 1 + 23
    assert "23" in variant_check(channel=x, text="Hola", link=link).link_note
    assert variant_check(channel=x, text="Hola", link="").link_note == ""
    notes = {variant_check(channel=c, text="Hola", link=link).link_note for c in (facebook, instagram, x)}
    assert len(notes) == 3


def test_the_live_check_says_per_channel_where_the_link_goes(manager_client, sandbox_channel):
    x = Channel.objects.create(network=Network.X, account_id="1", display_name="Empleo X")
    link = "https://empleo.example.org/ofertas"
    response = manager_client.post(CHECK_URL, {"text": "Hola", "link": link, "channels": [x.pk]})
    page = response.content.decode()
    with translation.override("es"):
        for channel in (x, sandbox_channel):
            note = variant_check(channel=channel, text="Hola", link=link).link_note
            assert escape(note) in page
    assert "28 de 280" in page  # "Hola" + a space + 23 for the link


# --- Opening a draft, and from a curated item -------------------------------------------------------


def test_a_draft_from_a_curated_item_opens_in_the_composer_filled_in(
    manager_client, manager, sandbox_channel, job_seekers
):
    topic = Topic.objects.get(slug="employment")
    source = source_create(name="LABORA", url="https://labora.example.es/rss")
    item = make_item(
        source, "offer", title="Oferta de empleo", canonical_url="https://e.org/o/1", topic=topic
    )
    draft = post_draft_from_item(item=item, by=manager)

    drafts_page = manager_client.get(reverse("scheduling:drafts")).content.decode()
    assert f'href="{URL}?post={draft.pk}"' in drafts_page
    form = manager_client.get(URL, {"post": draft.pk}).context["form"]
    assert form["text"].value().startswith("Oferta de empleo https://e.org/o/1")
    assert (form["link"].value(), form["topic"].value()) == ("https://e.org/o/1", topic.pk)

    manager_client.post(
        f"{URL}?post={draft.pk}",
        {
            "text": form["text"].value(),
            "link": form["link"].value(),
            "topic": form["topic"].value(),
            "channels": [sandbox_channel.pk],
            "segment": job_seekers.pk,
            "when": "now",
        },
    )
    draft.refresh_from_db()
    assert (draft.status, draft.topic, draft.source_item, draft.segment) == (
        PostStatus.SCHEDULED,
        topic,
        item,
        job_seekers,
    )


# --- Getting there ------------------------------------------------------------------------------------


def test_the_manager_finds_publish_in_the_navigation_the_supervisor_does_not(
    manager_client, client, supervisor
):
    assert f'href="{URL}"' in _nav(manager_client.get(reverse("home")).content.decode())
    client.force_login(supervisor)
    assert URL not in _nav(client.get(reverse("home")).content.decode())


@pytest.mark.parametrize("url_name", ["publishing:attention", "publishing:pause", "scheduling:drafts"])
def test_the_publishing_pages_lead_to_each_other_and_only_the_manager_to_compose(
    manager_client, client, supervisor, url_name
):
    wanted = [reverse("scheduling:drafts"), reverse("publishing:attention"), reverse("publishing:pause")]
    manager_page = manager_client.get(reverse(url_name)).content.decode()
    assert all(f'href="{url}"' in _subnav(manager_page) for url in [URL, *wanted])
    assert 'aria-current="page"' in _subnav(manager_page)

    client.force_login(supervisor)
    supervisor_page = client.get(reverse(url_name)).content.decode()
    assert all(f'href="{url}"' in _subnav(supervisor_page) for url in wanted)
    assert URL not in supervisor_page


def _nav(page: str) -> str:
    start = page.index('<ul class="nav">')
    return page[start : page.index("</ul>", start)]


def _subnav(page: str) -> str:
    start = page.index('<nav class="subnav"')
    return page[start : page.index("</nav>", start)]
