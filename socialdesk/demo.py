"""Demo data for `make run`: the cast, office hours and a sandbox channel. Safe to run again."""

from dataclasses import dataclass
from datetime import time

from django.db import transaction

from socialdesk.models import Role, User, WorkingInterval

DEMO_PASSWORD_SUFFIX = "-demo-2026"  # noqa: S105  (demo data, printed by `make run`)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_CAST = (
    ("marta", "Marta", "Gil", Role.MANAGER),
    ("sergio", "Sergio", "Pla", Role.SUPERVISOR),
    ("ana", "Ana", "Ferrer", Role.ADMINISTRATOR),
)

# Office hours of a job centre's communication unit: mornings every weekday, and two afternoons.
DEFAULT_WORKING_HOURS = [
    *[(weekday, time(8, 0), time(15, 0)) for weekday in range(5)],
    (1, time(16, 0), time(18, 30)),
    (3, time(16, 0), time(18, 30)),
]


def demo_seed() -> list[DemoLogin]:
    with transaction.atomic():
        logins = [_seed_user(*person) for person in DEMO_CAST]
        if not WorkingInterval.objects.exists():
            WorkingInterval.objects.bulk_create(
                WorkingInterval(weekday=weekday, starts_at=start, ends_at=end)
                for weekday, start, end in DEFAULT_WORKING_HOURS
            )
    return logins


def _seed_user(username: str, first_name: str, last_name: str, role: str) -> DemoLogin:
    password = f"{username}{DEMO_PASSWORD_SUFFIX}"
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "role": role,
            "is_staff": role == Role.ADMINISTRATOR,
            "is_superuser": role == Role.ADMINISTRATOR,
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return DemoLogin(username=username, password=password, role=role)
