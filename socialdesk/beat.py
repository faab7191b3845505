"""Every periodic task of SocialDesk, in one place.

Each interval is a named constant with the reason it has that value. Tasks that find work fan out
one task per row (a source, a channel, a delivery) so a slow network never holds up the rest.
"""

from django.conf import settings

# Beat sends a heartbeat task this often; the worker running it proves the whole path
# beat -> broker -> worker works (the "tasks" line of /healthz).
HEARTBEAT_SECONDS = float(settings.SOCIALDESK_HEARTBEAT_SECONDS)

# The sandbox network "lives": it invents citizens' messages on this cadence so the demo desk is
# never empty. Real networks are polled instead.
SANDBOX_SIMULATE_SECONDS = 20.0

# Channels are checked this often for inbound messages; each channel keeps its own next_poll_at,
# so this is only how quickly a due channel is noticed, not how often a network is called.
POLL_CHANNELS_SECONDS = 15.0

BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "socialdesk.tasks.heartbeat",
        "schedule": HEARTBEAT_SECONDS,
        # A heartbeat older than its interval says nothing new: drop it rather than pile them up.
        "options": {"expires": HEARTBEAT_SECONDS},
    },
    "sandbox-simulate-citizens": {
        "task": "networks.tasks.sandbox_simulate_citizens",
        "schedule": SANDBOX_SIMULATE_SECONDS,
    },
    "poll-due-channels": {
        "task": "networks.tasks.poll_due_channels",
        "schedule": POLL_CHANNELS_SECONDS,
    },
}
