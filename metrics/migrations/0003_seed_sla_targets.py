"""The response targets the desk starts with; the administrator changes them in the admin."""

from django.db import migrations

HOUR = 3600
# Values as of this migration (metrics.sla.DEFAULT_TARGETS): public comments and mentions are
# public, so four business hours; a private message within one 7-hour working day (08:00–15:00).
TARGETS = {
    "public_comment": 4 * HOUR,
    "mention": 4 * HOUR,
    "private_message": 7 * HOUR,
}


def seed(apps, schema_editor):
    SlaTarget = apps.get_model("metrics", "SlaTarget")
    for kind, seconds in TARGETS.items():
        SlaTarget.objects.get_or_create(conversation_kind=kind, defaults={"business_seconds": seconds})


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0002_rollups_and_sla_targets"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
