from django.db import migrations

# Each message's Spanish search vector, computed once when the message is stored (or its text
# changes) instead of at every search: inbox.selectors tests candidate conversations against the
# stored vector, and finds a rare word's messages through the GIN index on it. It replaces 0004's
# expression index, so a message's text is still parsed once on insert. PostgreSQL only, and kept
# out of the model's state like 0004's index (SQLite searches with icontains); a change to the
# type of Message.text must drop this column first and add it back after.
COLUMN = "search_vector"
INDEX = "message_search_vector_idx"
EXPRESSION_INDEX = "inbox_message_text_search_idx"
FORWARD = (
    f"ALTER TABLE inbox_message ADD COLUMN IF NOT EXISTS {COLUMN} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('spanish'::regconfig, COALESCE(text, ''))) STORED",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_message USING gin ({COLUMN})",
    f"DROP INDEX IF EXISTS {EXPRESSION_INDEX}",
)
BACKWARD = (
    f"CREATE INDEX IF NOT EXISTS {EXPRESSION_INDEX} ON inbox_message "
    "USING gin (to_tsvector('spanish'::regconfig, COALESCE(text, '')))",
    f"DROP INDEX IF EXISTS {INDEX}",
    f"ALTER TABLE inbox_message DROP COLUMN IF EXISTS {COLUMN}",
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("inbox", "0006_queue_indexes_and_statistics")]

    operations = [migrations.RunPython(forward, backward)]
