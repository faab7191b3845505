"""Each conversation shows the post of ours it is about: its text and address when SocialDesk
published it, otherwise the network and an address built from the id (or the id itself)."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inbox.selectors import AboutPost, conversation_about_post
from networks.base import InboundKind
from networks.models import Network
from networks.services import channel_connect
from scheduling.models import Delivery, DeliveryState, Post
from tests.inbox.helpers import citizen_writes
from tests.networks.fixtures import make_sandbox_channel


@pytest.fixture
def manager_client(manager_client):
    """Pages in English, the source language the assertions quote."""
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return manager_client


def published(channel, external_id: str, *, text: str, url: str, state=DeliveryState.PUBLISHED):
    post = Post.objects.create(text=text)
    now = timezone.now()
    return Delivery.objects.create(
        post=post,
        channel=channel,
        text=text,
        scheduled_at=now,
        due_at=now,
        state=state,
        external_id=external_id,
        url=url,
        published_at=now if state == DeliveryState.PUBLISHED else None,
    )


def comment_on(channel, post_id: str):
    return citizen_writes(
        channel,
        "¿Y para mayores de 45?",
        kind=InboundKind.PUBLIC_COMMENT,
        thread_key="c-1",
        about_post=post_id,
    ).conversation


def connect(network: str, handle: str = ""):
    return channel_connect(
        network=network,
        account_id=f"{network}-account",
        display_name="Empleo GVA",
        handle=handle,
        credentials={"access_token": "token"},
    )


def test_a_post_we_published_shows_its_text_and_address_in_one_query(
    sandbox_channel, django_assert_num_queries
):
    published(
        sandbox_channel, "sb-77", text="Cursos <gratis> de inglés", url="https://sandbox.invalid/@e/sb-77"
    )
    _, other_channel = make_sandbox_channel("otra", "Otra")
    published(other_channel, "sb-77", text="Not this channel", url="https://sandbox.invalid/@o/sb-77")
    conversation = comment_on(sandbox_channel, "sb-77")

    with django_assert_num_queries(1):
        about = conversation_about_post(conversation)

    assert about == AboutPost(
        network=sandbox_channel.get_network_display(),
        external_id="sb-77",
        text="Cursos <gratis> de inglés",
        url="https://sandbox.invalid/@e/sb-77",
    )


def test_a_post_not_confirmed_published_is_not_shown_as_ours(sandbox_channel):
    published(
        sandbox_channel,
        "sb-78",
        text="Quizá publicado",
        url="https://sandbox.invalid/@e/sb-78",
        state="unknown",
    )

    about = conversation_about_post(comment_on(sandbox_channel, "sb-78"))

    assert (about.text, about.url, about.external_id) == ("", "", "sb-78")


def test_the_page_shows_our_post_text_escaped_and_its_link(manager_client, sandbox_channel):
    published(
        sandbox_channel, "sb-77", text="Cursos <gratis> de inglés", url="https://sandbox.invalid/@e/sb-77"
    )
    conversation = comment_on(sandbox_channel, "sb-77")

    page = manager_client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()

    section = page[
        page.index('class="about-post"') : page.index("</section>", page.index('class="about-post"'))
    ]
    assert escape("Cursos <gratis> de inglés") in section
    assert 'href="https://sandbox.invalid/@e/sb-77"' in section


@pytest.mark.parametrize(
    ("network", "handle", "post_id", "url"),
    [
        (
            Network.X,
            "ocupacio_gva",
            "1897200000000000001",
            "https://x.com/ocupacio_gva/status/1897200000000000001",
        ),
        (
            Network.FACEBOOK,
            "",
            "104857321234567_122150000000000002",
            "https://www.facebook.com/104857321234567_122150000000000002",
        ),
        (
            Network.LINKEDIN,
            "",
            "urn:li:share:7400000000000000001",
            "https://www.linkedin.com/feed/update/urn:li:share:7400000000000000001/",
        ),
        (Network.YOUTUBE, "", "Xk3m9QwLr2A", "https://www.youtube.com/watch?v=Xk3m9QwLr2A"),
        (
            Network.BLUESKY,
            "ocupacio.bsky.social",
            "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3ljwbbylxvs2c",
            "https://bsky.app/profile/ocupacio.bsky.social/post/3ljwbbylxvs2c",
        ),
    ],
)
def test_a_post_published_elsewhere_links_to_the_network(manager_client, network, handle, post_id, url):
    conversation = comment_on(connect(network, handle), post_id)

    about = conversation_about_post(conversation)
    page = manager_client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()

    assert (about.text, about.url) == ("", url)
    assert f'href="{escape(url)}"' in page
    assert f"A post of ours on {conversation.channel.get_network_display()}" in page


def test_without_an_address_the_network_and_the_id_are_shown(manager_client):
    conversation = comment_on(connect(Network.INSTAGRAM), "17920238422030506")

    page = manager_client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()

    section = page[
        page.index('class="about-post"') : page.index("</section>", page.index('class="about-post"'))
    ]
    assert "A post of ours on Instagram" in section
    assert "17920238422030506" in section
    assert "href" not in section


def test_a_conversation_about_no_post_shows_none(manager_client, sandbox_channel):
    conversation = citizen_writes(sandbox_channel, "Hola").conversation

    page = manager_client.get(reverse("inbox:conversation", args=[conversation.pk])).content.decode()

    assert conversation_about_post(conversation) is None
    assert "about-post" not in page
