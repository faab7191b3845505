from networks.models.channel import Channel, ChannelStatus, Network
from networks.models.sandbox import SandboxAccount, SandboxEvent, SandboxFailure, SandboxPost, SandboxPostKind
from networks.models.webhook import WebhookEvent, WebhookSource

__all__ = [
    "Channel",
    "ChannelStatus",
    "Network",
    "SandboxAccount",
    "SandboxEvent",
    "SandboxFailure",
    "SandboxPost",
    "SandboxPostKind",
    "WebhookEvent",
    "WebhookSource",
]
