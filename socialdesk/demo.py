"""Demo data for `make run`: the cast, office hours, a sandbox channel, sample curation sources and a
first live post made from the reading queue. Safe to run again."""

from dataclasses import dataclass
from datetime import time

from django.db import transaction

from curation.demo import demo_curation_seed
from curation.models import HiddenReason, Item, Source
from networks.models import Channel, Network, SandboxAccount
from networks.registry import connector_for
from networks.sandbox import sandbox_account_open
from networks.services import channel_connect
from scheduling.composer import channel_default_segment, post_compose
from scheduling.models import Post
from scheduling.services import post_draft_from_item
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
        channel = _seed_sandbox_channel()
        sources = demo_curation_seed()
        if sources:
            _seed_live_post(channel=channel, sources=sources, by=User.objects.get(username=DEMO_CAST[0][0]))
    return logins


def _seed_live_post(*, channel: Channel, sources: list[Source], by: User) -> Post:
    """The demo's first post, as the manager would make it: compose from the queue's best item and
    publish it live on the sandbox. The worker publishes it within seconds and plans its echoes for
    when the audience is online, so the calendar shows what the desk does after hours."""
    item = (
        Item.objects.filter(source__in=sources, hidden_reason=HiddenReason.VISIBLE).order_by("-rank", "id").first()
    )
    draft = post_draft_from_item(item=item, by=by)
    return post_compose(
        post=draft,
        text=draft.text,
        link=draft.link,
        variants={channel: draft.text},
        at=None,
        draft=False,
        actor=by,
        topic=draft.topic,
        segment=channel_default_segment(channel),
    )


def _seed_sandbox_channel() -> Channel:
    account = SandboxAccount.objects.filter(handle=DEMO_SANDBOX_HANDLE).first()
    existing = account and Channel.objects.filter(network=Network.SANDBOX, account_id=account.account_id).first()
    if existing:
        return existing
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
    return channel


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
