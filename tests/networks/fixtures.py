"""Sandbox channels and inbound messages for the networks and inbox tests (imported by their conftests)."""

import random
import socket
from datetime import datetime

import pytest
from django.utils import timezone
from urllib3.util import connection as urllib3_connection

from networks.base import InboundKind, InboundMessage
from networks.models import Network
from networks.registry import connector_for
from networks.sandbox import SandboxConnector, sandbox_account_open
from networks.services import channel_connect


def make_sandbox_channel(handle: str = "empleo_test", name: str = "Empleo Test"):
    account, credentials = sandbox_account_open(handle=handle, display_name=name)
    channel = channel_connect(
        network=Network.SANDBOX,
        account_id=account.account_id,
        display_name=name,
        handle=handle,
        credentials=credentials,
    )
    return account, channel


@pytest.fixture
def sandbox_account_and_channel(db):
    return make_sandbox_channel()


@pytest.fixture
def sandbox_account(sandbox_account_and_channel):
    return sandbox_account_and_channel[0]


@pytest.fixture
def sandbox_channel(sandbox_account_and_channel):
    return sandbox_account_and_channel[1]


@pytest.fixture
def sandbox(sandbox_channel):
    """The sandbox connector for the channel."""
    return connector_for(sandbox_channel)


@pytest.fixture
def only_sandbox_installed(monkeypatch):
    """As if the sandbox were the only connector installed (other networks come and go)."""
    monkeypatch.setattr("networks.services.CONNECTORS", {Network.SANDBOX: SandboxConnector})


@pytest.fixture
def rng():
    return random.Random(20260401)


def inbound(
    external_id: str = "m-1",
    *,
    thread_key: str = "t-1",
    kind: InboundKind = InboundKind.PRIVATE_MESSAGE,
    author_id: str = "citizen-1",
    author_name: str = "Lucía Moreno",
    author_handle: str = "lucia",
    text: str = "Hola, ¿cómo pido cita previa?",
    created_at: datetime | None = None,
    **more,
) -> InboundMessage:
    return InboundMessage(
        external_id=external_id,
        thread_key=thread_key,
        kind=kind,
        author_id=author_id,
        author_name=author_name,
        author_handle=author_handle,
        text=text,
        created_at=created_at or timezone.now(),
        **{"raw": {"id": external_id, "text": text}, **more},
    )


REBINDING_HOST = "rebinding.example"


@pytest.fixture
def rebinding_host(monkeypatch) -> list:
    """REBINDING_HOST answers a public address to its first lookup and loopback to every later one
    (DNS rebinding). Returns the list of addresses urllib3 was asked to open a socket to."""
    answers = iter([["93.184.216.34"]])
    real = socket.getaddrinfo
    connected: list = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != REBINDING_HOST:
            return real(host, port, *args, **kwargs)
        return real(next(answers, ["127.0.0.1"])[0], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(
        urllib3_connection, "create_connection", lambda address, *a, **k: connected.append(address)
    )
    return connected
