from django.db import migrations

# The same expression inbox.selectors builds with SearchVector("text", config="spanish"), so
# PostgreSQL's planner uses the index for the inbox search. SQLite searches with icontains instead.
INDEX = "inbox_message_text_search_idx"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_message "
    "USING gin (to_tsvector('spanish'::regconfig, COALESCE(text, '')))"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0003_seed_priority_words")]

    operations = [migrations.RunPython(create, drop)]
