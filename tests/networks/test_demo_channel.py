"""`make run` seeds one active sandbox channel, once, with a post for citizens to comment on."""

import io

from django.core.management import call_command

from networks.models import Channel, ChannelStatus, Network, SandboxPost
from networks.registry import connector_for
from socialdesk.demo import DEMO_SANDBOX_HANDLE, DEMO_SANDBOX_NAME


def test_seed_demo_connects_one_sandbox_channel_idempotently(db):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())

    channel = Channel.objects.get()
    assert (channel.network, channel.display_name, channel.handle) == (
        Network.SANDBOX,
        DEMO_SANDBOX_NAME,
        DEMO_SANDBOX_HANDLE,
    )
    assert channel.status == ChannelStatus.ACTIVE
    assert SandboxPost.objects.count() == 1
    # The stored token works: the channel can be polled right away.
    assert connector_for(channel).fetch_inbound(cursor={}).messages == []
