"""The four audiences of the publishing issue, with prior online hours (Europe/Madrid) that stand in
for learned activity while a channel has little data. Weights are relative; the administrator edits
them in the admin site. Figures are a starting guess from the desk's experience, not measurements."""

from django.db import migrations


def week(weekday_hours: dict[int, float], weekend_hours: dict[int, float], base: float = 0.05) -> list[list[float]]:
    weekday = [weekday_hours.get(hour, base) for hour in range(24)]
    weekend = [weekend_hours.get(hour, base) for hour in range(24)]
    return [list(weekday) for _ in range(5)] + [list(weekend) for _ in range(2)]


def spread(hours, weight):
    return {hour: weight for hour in hours}


SEGMENTS = [
    (
        "job-seekers",
        "Personas que buscan empleo",
        "Job seekers: mornings looking for offers, evenings reading and applying.",
        week(
            {**spread(range(8, 14), 0.7), **spread(range(14, 17), 0.4), **spread(range(19, 23), 0.9), 23: 0.4},
            {**spread(range(10, 14), 0.6), **spread(range(17, 23), 0.8)},
        ),
    ),
    (
        "workers",
        "Personas trabajadoras",
        "People in work: commute, lunch break and late evening.",
        week(
            {7: 0.6, 8: 0.5, 14: 0.6, 15: 0.5, **spread(range(20, 24), 0.9)},
            {**spread(range(10, 14), 0.8), **spread(range(18, 23), 0.7)},
        ),
    ),
    (
        "employers",
        "Empresas",
        "Employers: working hours on weekdays, a little on Sunday evening.",
        week(
            {**spread(range(8, 15), 0.9), **spread(range(15, 19), 0.6), 21: 0.2},
            {11: 0.2, 12: 0.2, 20: 0.3, 21: 0.3},
        ),
    ),
    (
        "students",
        "Estudiantes",
        "Training students: afternoons, evenings and weekends.",
        week(
            {**spread(range(14, 17), 0.6), **spread(range(17, 24), 0.9), 0: 0.4},
            {**spread(range(12, 15), 0.5), **spread(range(17, 24), 0.9), 0: 0.5},
        ),
    ),
]


def seed(apps, schema_editor):
    AudienceSegment = apps.get_model("scheduling", "AudienceSegment")
    for position, (slug, name, description, priors) in enumerate(SEGMENTS):
        AudienceSegment.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "description": description, "priors": priors, "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0004_segments_image_calendar_feed")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
