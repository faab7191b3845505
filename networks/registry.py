"""Which connector speaks for which network. A network without an entry here cannot be connected
or polled; each network's issue adds its connector."""

from networks.base import Connector
from networks.bluesky import BlueskyConnector
from networks.facebook import FacebookConnector
from networks.instagram import InstagramConnector
from networks.linkedin import LinkedInConnector
from networks.mastodon import MastodonConnector
from networks.models import Network
from networks.sandbox import SandboxConnector
from networks.x import XConnector
from networks.youtube import YouTubeConnector

CONNECTORS: dict[str, type[Connector]] = {
    Network.SANDBOX: SandboxConnector,
    Network.X: XConnector,
    Network.MASTODON: MastodonConnector,
    Network.BLUESKY: BlueskyConnector,
    Network.FACEBOOK: FacebookConnector,
    Network.INSTAGRAM: InstagramConnector,
    Network.LINKEDIN: LinkedInConnector,
    Network.YOUTUBE: YouTubeConnector,
}


def connector_for(channel) -> Connector:
    """The channel's connector, with its access token renewed first if it is about to end."""
    # Imported here: networks.tokens marks channels through networks.services, which imports this module.
    from networks.tokens import channel_credentials_refresh

    try:
        connector_class = CONNECTORS[channel.network]
    except KeyError:
        raise LookupError(f"No connector is installed for the network {channel.network!r}.") from None
    channel_credentials_refresh(channel=channel)
    return connector_class(channel)
