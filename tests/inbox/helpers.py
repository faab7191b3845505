"""Conversations for the inbox tests, built through message_ingest as the pollers build them."""

from datetime import datetime

from inbox.models import Conversation, Message
from inbox.services import message_ingest
from networks.base import InboundKind
from tests.networks.fixtures import inbound

_counter = iter(range(1, 10**9))


def citizen_writes(
    channel,
    text: str = "Hola, ¿cómo pido cita previa?",
    *,
    thread_key: str = "t-1",
    kind: InboundKind = InboundKind.PRIVATE_MESSAGE,
    author_id: str = "citizen-1",
    author_name: str = "Lucía Moreno",
    at: datetime | None = None,
    **more,
) -> Message:
    return message_ingest(
        channel=channel,
        inbound=inbound(
            f"in-{next(_counter)}",
            thread_key=thread_key,
            kind=kind,
            author_id=author_id,
            author_name=author_name,
            text=text,
            created_at=at,
            **more,
        ),
    )


def we_answer_on_the_network(
    channel, text: str = "Puede pedirla en la web.", *, thread_key: str = "t-1", at: datetime | None = None
) -> Message:
    """A reply written in the network's own app, seen by polling."""
    return message_ingest(
        channel=channel,
        inbound=inbound(
            f"out-{next(_counter)}",
            thread_key=thread_key,
            author_id="us",
            author_name="Empleo Test",
            text=text,
            created_at=at,
            is_from_us=True,
        ),
    )


def fresh(conversation: Conversation) -> Conversation:
    return Conversation.objects.get(pk=conversation.pk)
