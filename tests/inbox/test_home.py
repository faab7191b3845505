"""The home page shows the manager what citizens wrote, and nobody else who may not read the desk."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from inbox.selectors import recent_inbound_messages
from inbox.services import message_ingest
from networks.models import SandboxEvent
from networks.tasks import poll_due_channels, sandbox_simulate_citizens
from tests.networks.fixtures import inbound, make_sandbox_channel


@pytest.fixture
def simulated_message(sandbox_channel, django_capture_on_commit_callbacks) -> SandboxEvent:
    """A simulated citizen writes and the beat tasks bring it in, as in `make run`."""
    sandbox_simulate_citizens()
    with django_capture_on_commit_callbacks(execute=True):
        poll_due_channels()
    return SandboxEvent.objects.get()


def test_the_manager_sees_a_simulated_citizens_message(manager_client, simulated_message):
    response = manager_client.get(reverse("home"))

    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["summary"].needs_reply == 1
    assert simulated_message.author_name in page
    assert f"@{simulated_message.author_handle}" in page
    assert escape(simulated_message.text) in page
    assert "SocialDesk" in page
    assert "Empleo Test" in page  # the channel
    assert [message.external_id for message in response.context["summary"].recent_messages] == [
        simulated_message.external_id
    ]


def test_a_citizens_text_is_escaped(manager_client, sandbox_channel):
    message_ingest(
        channel=sandbox_channel, inbound=inbound(text='<script>alert("hola")</script> & <b>cita</b>')
    )

    page = manager_client.get(reverse("home")).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;hola&quot;)&lt;/script&gt; &amp; &lt;b&gt;cita&lt;/b&gt;" in page


def test_the_supervisor_reads_the_messages_too(supervisor_client, simulated_message):
    assert escape(simulated_message.text) in supervisor_client.get(reverse("home")).content.decode()


def test_the_administrator_sees_the_home_page_without_citizens_messages(
    client, administrator, simulated_message
):
    client.force_login(administrator)
    response = client.get(reverse("home"))

    assert response.status_code == 200
    page = response.content.decode()
    assert simulated_message.author_name not in page
    assert escape(simulated_message.text) not in page
    assert response.context["summary"].needs_reply is None
    assert response.context["summary"].recent_messages == []


def test_an_outsider_sees_nothing(client, outsider, simulated_message):
    client.force_login(outsider)
    response = client.get(reverse("home"))

    assert response.status_code == 403
    assert simulated_message.author_name not in response.content.decode()


def test_no_messages_yet_shows_an_empty_inbox(manager_client, sandbox_channel):
    response = manager_client.get(reverse("home"))

    assert response.context["summary"].needs_reply == 0
    assert response.context["summary"].recent_messages == []
    assert 'class="citizen-messages"' not in response.content.decode()


def test_latest_messages_come_in_one_query_whatever_their_number(db, django_assert_num_queries):
    _, one = make_sandbox_channel("uno")
    _, two = make_sandbox_channel("dos")
    for number in range(12):
        channel = one if number % 2 else two
        message_ingest(
            channel=channel, inbound=inbound(f"m-{number}", thread_key=f"t-{number}", author_id=f"c-{number}")
        )

    with django_assert_num_queries(1):
        messages = recent_inbound_messages(limit=10)
        shown = [
            (m.author.display_name, m.channel.display_name, m.conversation.get_kind_display())
            for m in messages
        ]

    assert len(shown) == 10
    assert [message.external_id for message in messages][:2] == ["m-11", "m-10"]


def test_each_message_opens_its_conversation_and_the_count_opens_the_inbox(manager_client, simulated_message):
    page = manager_client.get(reverse("home")).content.decode()
    message = manager_client.get(reverse("home")).context["summary"].recent_messages[0]
    assert f'href="{reverse("inbox:conversation", args=[message.conversation_id])}"' in page
    assert f'href="{reverse("inbox:queue")}"' in page
