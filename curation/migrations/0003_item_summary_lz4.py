"""Item summaries are compressed with lz4 instead of PostgreSQL's default pglz.

Full-text feeds put several kilobytes of HTML in every item, so nearly every new row is compressed
on its way in, and pglz is slow at it: in the curation benchmark's first fetch of 200 sources, lz4
takes about a third off the database's CPU for storing the items, for a little more disk. Only
PostgreSQL 14+ built with lz4 has it; anywhere else (SQLite, an older or a differently built server)
nothing changes. Rows already stored keep their compression; new ones use lz4.
"""

from django.db import DatabaseError, migrations, transaction


def _set_compression(schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name("curation_item")
    try:
        # A savepoint: a server without lz4 refuses the statement, and the migration goes on.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN summary_html SET COMPRESSION {method}")
    except DatabaseError:
        pass


def use_lz4(apps, schema_editor):
    _set_compression(schema_editor, "lz4")


def use_default(apps, schema_editor):
    _set_compression(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [("curation", "0002_seed_topics")]

    operations = [migrations.RunPython(use_lz4, use_default)]
