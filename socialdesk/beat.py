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

# Curation sources are claimed this often. Each source keeps its own next_fetch_at (60 min by
# default, never under 15), so this is only how late a due source can start; a short tick also
# lets a host's next feeds start soon after its two in-flight fetches end (at most two per host).
FETCH_DUE_SOURCES_SECONDS = 10.0

# Snoozed conversations come back and stuck reply sends are flagged this often: a snooze is chosen
# to the minute, so a minute is as late as one may wake.
INBOX_HOUSEKEEPING_SECONDS = 60.0

# Processed webhook deliveries older than their retention (30 days) are deleted once an hour: the
# deletion is small and cheap, and an hour late does not matter for a 30-day limit. The same run
# processes again a delivery whose processing never finished (polling brings its messages meanwhile).
PURGE_WEBHOOK_EVENTS_SECONDS = 3600.0

# Due deliveries are claimed this often. A post must go out within 15 s of its time, and a tick
# is time a due post waits before a worker even hears of it: 1 s spends at most one second of
# those fifteen, and a burst due in the same minute reaches the workers in small batches as it
# comes due instead of a pile every few seconds. A tick with nothing due costs three small queries.
DISPATCH_DELIVERIES_SECONDS = 1.0

# Unconfirmed deliveries (a timeout after sending, a worker lost mid-publish) are looked for on
# their network this often; each one also waits its own interval between looks.
RECONCILE_DELIVERIES_SECONDS = 30.0

# Channels with published posts whose figures are due are read this often. Each post keeps its own
# last-read time (hourly while under 48 h old, then daily: scheduling.post_metrics), so the tick only
# bounds how late a due post is read; a tick with nothing due costs one query.
COLLECT_POST_METRICS_SECONDS = 15 * 60.0

# Each channel's own timeline is read this often for posts the manager made outside SocialDesk (on
# her phone): such a post is offered for echoing within about ten minutes of going out (it first
# waits five for the inbox to recognise replies), with one timeline request per channel per tick,
# far inside every network's limits.
PICK_UP_OUTSIDE_POSTS_SECONDS = 5 * 60.0

# The desk's mailbox is read for colleagues' answers this often, when it is read over IMAP at all
# (SOCIALDESK_IMAP_URL; otherwise the task returns at once). An answer to a question that took
# hours to come may wait two minutes more, and a mail server is not to be asked every few seconds.
POLL_COLLEAGUE_MAILBOX_SECONDS = 120.0

# Daily digests are due at 08:00 local time (inbox.alerts.DIGEST_AT): a 15-minute tick sends them
# by 08:15, and a tick with none due costs one small query. Each digest is claimed under a row lock,
# so a tick that overlaps the previous one sends nothing twice.
SEND_DIGESTS_SECONDS = 15 * 60.0

# The metrics rollups catch up with new events and messages this often, then SLA breaches are
# written. A supervisor reads trends over days, so two minutes behind is current enough; a run
# only touches what changed (tens of milliseconds on a quiet desk), and a breach noticed late still
# records its due time as when it happened.
ROLLUPS_REFRESH_SECONDS = 120.0

# Citizens' data past its retention (SOCIALDESK_CITIZEN_DATA_RETENTION_DAYS, two years by default) is
# anonymised once a day: a day late does not matter for a limit counted in years, and each run works
# in short capped batches (inbox.tasks.RETENTION_BATCH), so it never holds the database for long.
CITIZEN_DATA_RETENTION_SECONDS = 24 * 3600.0

# Images no post names (a composer left, an image replaced) are deleted once a day after a few days
# (scheduling.media.UNUSED_IMAGE_AGE): they may show people, and they fill the disk.
DELETE_UNUSED_IMAGES_SECONDS = 24 * 3600.0

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
    "fetch-due-sources": {
        "task": "curation.tasks.fetch_due_sources",
        "schedule": FETCH_DUE_SOURCES_SECONDS,
        # A claim round that waited longer than the next tick is redundant: the next one covers it.
        "options": {"expires": FETCH_DUE_SOURCES_SECONDS},
    },
    "inbox-housekeeping": {
        "task": "inbox.tasks.inbox_housekeeping",
        "schedule": INBOX_HOUSEKEEPING_SECONDS,
        "options": {"expires": INBOX_HOUSEKEEPING_SECONDS},
    },
    "dispatch-due-deliveries": {
        "task": "scheduling.tasks.dispatch_due_deliveries",
        "schedule": DISPATCH_DELIVERIES_SECONDS,
        # A claim round that waited longer than the next tick is redundant: the next one covers it.
        "options": {"expires": DISPATCH_DELIVERIES_SECONDS},
    },
    "reconcile-deliveries": {
        "task": "scheduling.tasks.reconcile_deliveries",
        "schedule": RECONCILE_DELIVERIES_SECONDS,
        "options": {"expires": RECONCILE_DELIVERIES_SECONDS},
    },
    "collect-post-metrics": {
        "task": "scheduling.tasks.collect_post_metrics",
        "schedule": COLLECT_POST_METRICS_SECONDS,
        "options": {"expires": COLLECT_POST_METRICS_SECONDS},
    },
    "pick-up-outside-posts": {
        "task": "scheduling.tasks.pick_up_outside_posts",
        "schedule": PICK_UP_OUTSIDE_POSTS_SECONDS,
        "options": {"expires": PICK_UP_OUTSIDE_POSTS_SECONDS},
    },
    "poll-colleague-mailbox": {
        "task": "inbox.tasks.poll_colleague_mailbox",
        "schedule": POLL_COLLEAGUE_MAILBOX_SECONDS,
        "options": {"expires": POLL_COLLEAGUE_MAILBOX_SECONDS},
    },
    "send-due-digests": {
        "task": "inbox.tasks.send_due_digests",
        "schedule": SEND_DIGESTS_SECONDS,
        "options": {"expires": SEND_DIGESTS_SECONDS},
    },
    "refresh-rollups": {
        "task": "metrics.tasks.refresh_rollups",
        "schedule": ROLLUPS_REFRESH_SECONDS,
        "options": {"expires": ROLLUPS_REFRESH_SECONDS},
    },
    "purge-webhook-events": {
        "task": "networks.tasks.purge_webhook_events",
        "schedule": PURGE_WEBHOOK_EVENTS_SECONDS,
        "options": {"expires": PURGE_WEBHOOK_EVENTS_SECONDS},
    },
    "apply-citizen-data-retention": {
        "task": "inbox.tasks.apply_citizen_data_retention",
        "schedule": CITIZEN_DATA_RETENTION_SECONDS,
        "options": {"expires": CITIZEN_DATA_RETENTION_SECONDS},
    },
    "delete-unused-images": {
        "task": "scheduling.tasks.delete_unused_images",
        "schedule": DELETE_UNUSED_IMAGES_SECONDS,
        "options": {"expires": DELETE_UNUSED_IMAGES_SECONDS},
    },
}
