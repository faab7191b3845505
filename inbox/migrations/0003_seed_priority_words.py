from django.db import migrations

# Spanish and Valencian; the manager edits them in the admin (Inbox › Priority words).
WORDS = [
    ("queja", "complaint", 20),
    ("reclamación", "complaint", 20),
    ("queixa", "complaint", 20),
    ("reclamació", "complaint", 20),
    ("denuncia", "complaint", 15),
    ("denúncia", "complaint", 15),
    ("urgente", "urgent", 30),
    ("urgent", "urgent", 30),
    ("urgencia", "urgent", 30),
    ("urgència", "urgent", 30),
]


def seed(apps, schema_editor):
    PriorityWord = apps.get_model("inbox", "PriorityWord")
    for term, category, weight in WORDS:
        PriorityWord.objects.get_or_create(term=term, defaults={"category": category, "weight": weight})


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_queue_replies_notes_tags")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
