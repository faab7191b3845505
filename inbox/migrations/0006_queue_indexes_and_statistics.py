from django.db import migrations

# Indexes for the queue at a desk's real size (bench/bench_inbox.py: a million messages), on
# PostgreSQL; SQLite desks are small. Partial indexes, as 0004's, are kept out of the models' state.
INDEXES = {
    # Every view but needs-reply and spam lists the newest first among what is not spam: walked in
    # order, a page stops after its rows instead of sorting every conversation.
    "conversation_recent_idx": (
        "CREATE INDEX IF NOT EXISTS conversation_recent_idx ON inbox_conversation "
        "(last_message_at DESC, id DESC) WHERE NOT spam"
    ),
    # The spam view and its count: conversations marked spam, and those with a hidden message.
    "conversation_spam_idx": (
        "CREATE INDEX IF NOT EXISTS conversation_spam_idx ON inbox_conversation (id) WHERE spam"
    ),
    "message_hidden_idx": (
        "CREATE INDEX IF NOT EXISTS message_hidden_idx ON inbox_message (conversation_id) WHERE hidden"
    ),
}
# Status, needs_reply and spam go together (an open conversation mostly needs a reply): without
# their joint statistics the planner takes the needs-reply view for a third of its size, and probes
# every one of its conversations for a searched word where reading the word's index first is cheaper.
STATISTICS = (
    "CREATE STATISTICS IF NOT EXISTS conversation_queue_stats (mcv) "
    "ON status, needs_reply, spam FROM inbox_conversation"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in INDEXES.values():
            schema_editor.execute(statement)
        schema_editor.execute(STATISTICS)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS conversation_queue_stats")
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0005_library_colleagues_alerts_revisions")]

    operations = [migrations.RunPython(create, drop)]
