"""The supervisor can change nothing anywhere.

Every URL of the project, discovered from the URL configuration as tests/socialdesk/test_access.py
discovers it (so a view added by any app is walked without touching this file), gets a POST from a
signed-in supervisor, with its parameters pointing at real rows of a small desk: a conversation with
a message, a reply, a tag, an identity, a curated item and its source, an OPML import, a post and its
delivery. After each request every row of every table is compared with the snapshot taken before.

A route with a parameter this walker cannot fill fails the test with the name to teach it; a page the
supervisor may read must not answer 404 (that would mean the walker missed the real row and the POST
proved nothing).
"""

import re

import pytest
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from curation.models import OpmlImport
from curation.services import source_create
from inbox.models import ReplyKind
from inbox.services import conversation_tag, reply_create
from scheduling.deliveries import delivery_schedule
from scheduling.models import Post
from socialdesk.access import ROLE_CAPABILITIES
from socialdesk.models import Role
from tests.curation.items import make_item
from tests.inbox.helpers import citizen_writes
from tests.networks.fixtures import make_sandbox_channel
from tests.socialdesk.test_access import ROUTES, Route

# Rows that record the visit itself, not a change the supervisor made.
NOT_DESK_DATA = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
NOT_WALKED = {
    "logout/": "signing out ends the session that the rest of the walk needs; it changes no desk data",
    "admin/(?P<url>.*)$": "the admin's catch-all only redirects or answers 404",
}
WALKED = [route for route in ROUTES if route.pattern not in NOT_WALKED]
SUPERVISOR_CAN = ROLE_CAPABILITIES[Role.SUPERVISOR]
PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>")


def _snapshot() -> dict[str, list[dict]]:
    return {
        model._meta.label_lower: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label_lower not in NOT_DESK_DATA and model._meta.managed
    }


def _first_pk(label: str) -> int | None:
    model = apps.get_model(label)
    return model._default_manager.order_by("pk").values_list("pk", flat=True).first()


def _model_named(name: str) -> str | None:
    """`conversation` → "inbox.conversation": the model a `<conversation>_id` parameter points at."""
    labels = [model._meta.label_lower for model in apps.get_models() if model._meta.model_name == name]
    return labels[0] if len(labels) == 1 else None


@pytest.fixture
def desk(supervisor, manager):
    """One real row behind every kind of URL parameter, and the values those parameters take."""
    _account, channel = make_sandbox_channel()
    message = citizen_writes(channel, "Hola, ¿cómo renuevo la demanda de empleo?")
    conversation = message.conversation
    tag = conversation_tag(conversation=conversation, name="demanda")
    reply = reply_create(
        conversation=conversation, author=manager, text="Puede hacerlo en la web.", kind=ReplyKind.PRIVATE
    )
    source = source_create(name="Boletín", url="https://boletin.example.org/rss")
    make_item(source, "oferta-1")
    opml_import = OpmlImport.objects.create(created_by=manager, file_name="feeds.opml", document="<opml/>")
    post = Post.objects.create(text="Nuevas ofertas", link="https://example.org/ofertas", created_by=manager)
    delivery_schedule(post=post, channel=channel, text="Nuevas ofertas", at=timezone.now())
    assert reply.pk and tag.pk
    return {
        # Names that do not say their model.
        "import_id": opml_import.pk,
        "pk": channel.pk,  # networks:disable
        "id": manager.pk,  # admin: a user's password
        "network": channel.network,
        "table": "timings",  # metrics:export
        "app_label": "inbox",
        "content_type_id": "1",
    }


def _value(route: Route, name: str, converter: str | None, desk: dict) -> str:
    if name == "object_id":
        # admin:<app>_<model>_<action>: a real row of that model.
        app_label, model_name = route.name.split(":")[1].rsplit("_", 2)[:2] if route.name else ("", "")
        label = f"{app_label}.{model_name}"
        return (
            str(_first_pk(label) or 1) if label in {m._meta.label_lower for m in apps.get_models()} else "1"
        )
    if name in desk:
        return str(desk[name])
    if converter in {"str", "slug", "path"}:
        # A token or a file name: a made-up one is refused like a wrong one (the 404 check below
        # flags it on a page the supervisor may read).
        return "made-up"
    label = _model_named(name.removesuffix("_id")) if name.endswith("_id") else None
    pk = _first_pk(label) if label else None
    if pk is None and _may_enter(route):
        pytest.fail(f"{route.pattern}: teach the walker about the parameter {name!r} (add a row to `desk`)")
    # Where she lacks the capability the refusal comes before any lookup: any id shows it.
    return str(pk or 1)


def _may_enter(route: Route) -> bool:
    return route.is_public or route.capability in SUPERVISOR_CAN


def _url(route: Route, desk: dict) -> str:
    values = {
        match["name"] or match["group"]: _value(
            route, match["name"] or match["group"], match["converter"], desk
        )
        for match in PARAMETER.finditer(route.pattern)
    }
    if route.name:
        return reverse(route.name, kwargs=values)
    return "/" + PARAMETER.sub(lambda match: values[match["name"] or match["group"]], route.pattern)


def test_the_walk_covers_the_whole_project():
    patterns = {route.pattern for route in WALKED}
    assert {"", "inbox/<int:conversation_id>/reply/", "metrics/", "channels/<int:pk>/disable/"} <= patterns
    assert set(NOT_WALKED) <= {route.pattern for route in ROUTES}, "a route in NOT_WALKED no longer exists"


def test_a_supervisor_posting_to_every_url_changes_no_row(client, supervisor, desk):
    # Even the stray staff flag must not open the admin to her.
    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    client.force_login(supervisor)
    # A view that crashes is another test's business; what it wrote before crashing is this one's.
    client.raise_request_exception = False
    before = _snapshot()
    problems = []
    for route in WALKED:
        url = _url(route, desk)
        response = client.post(url)
        if client.session.get(SESSION_KEY) != str(supervisor.pk):
            pytest.fail(f"POST {url} signed the supervisor out: the rest of the walk would prove nothing")
        after = _snapshot()
        changed = sorted(label for label in after if after[label] != before.get(label))
        if changed:
            problems.append(f"POST {url} ({route.view_path}) changed {', '.join(changed)}")
            before = after
        if route.is_public:
            continue
        if route.capability not in SUPERVISOR_CAN:
            if response.status_code != 403:
                problems.append(
                    f"POST {url}: {response.status_code}, expected 403 (she lacks {route.capability})"
                )
        elif response.status_code == 404:
            problems.append(f"POST {url}: 404, the walker did not reach a real row")
    assert problems == []


def test_the_walk_would_see_a_change(client, supervisor, desk):
    """The snapshot notices a changed row (here made directly, as a careless view would)."""
    from inbox.models import Conversation

    before = _snapshot()
    Conversation.objects.update(priority=5)
    after = _snapshot()
    assert [label for label in after if after[label] != before[label]] == ["inbox.conversation"]
