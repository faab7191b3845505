"""Demo data for `make run`: the cast, office hours, a sandbox channel and sample curation sources.
Safe to run again."""

from dataclasses import dataclass
from datetime import time

from django.db import transaction

from curation.demo import demo_curation_seed
from networks.models import Channel, Network, SandboxAccount
from networks.registry import connector_for
from networks.sandbox import sandbox_account_open
from networks.services import channel_connect
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

DEMO_SANDBOX_HANDLE = "empleo_demo"
DEMO_SANDBOX_NAME = "SocialDesk Sandbox"
# Already on the account when the demo starts, so the simulated citizens have a post to comment on.
DEMO_SANDBOX_FIRST_POST = (
    "Abierta la inscripción en los cursos gratuitos de formación para el empleo de este trimestre: "
    "plazas, horarios y requisitos en tu oficina de empleo o en la web."
)


def demo_seed() -> list[DemoLogin]:
    with transaction.atomic():
        logins = [_seed_user(*person) for person in DEMO_CAST]
        if not WorkingInterval.objects.exists():
            WorkingInterval.objects.bulk_create(
                WorkingInterval(weekday=weekday, starts_at=start, ends_at=end)
                for weekday, start, end in DEFAULT_WORKING_HOURS
            )
        _seed_sandbox_channel()
        demo_curation_seed()
    return logins


def _seed_sandbox_channel() -> None:
    account = SandboxAccount.objects.filter(handle=DEMO_SANDBOX_HANDLE).first()
    if account and Channel.objects.filter(network=Network.SANDBOX, account_id=account.account_id).exists():
        return
    account, credentials = sandbox_account_open(handle=DEMO_SANDBOX_HANDLE, display_name=DEMO_SANDBOX_NAME)
    channel = channel_connect(
        network=Network.SANDBOX,
        account_id=account.account_id,
        display_name=DEMO_SANDBOX_NAME,
        handle=DEMO_SANDBOX_HANDLE,
        credentials=credentials,
    )
    if not account.posts.exists():
        connector_for(channel).publish(text=DEMO_SANDBOX_FIRST_POST)


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
