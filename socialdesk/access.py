"""Who may do what: the one place roles turn into permissions, and the decorator every view uses."""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from socialdesk.models import Role


class Capability(StrEnum):
    VIEW_HOME = "view_home"
    READ_DESK = "read_desk"  # conversations, curation queue, schedule: read only
    WORK_DESK = "work_desk"  # reply, curate, publish, pause: every change in the desk
    READ_METRICS = "read_metrics"
    VIEW_CHANNELS = "view_channels"
    MANAGE_CHANNELS = "manage_channels"  # connect, reconnect, disable accounts
    MANAGE_USERS = "manage_users"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.MANAGER: frozenset(
        {
            Capability.VIEW_HOME,
            Capability.READ_DESK,
            Capability.WORK_DESK,
            Capability.READ_METRICS,
            Capability.VIEW_CHANNELS,
            # She is the one who finds a channel needing reconnection at noon on a Saturday.
            Capability.MANAGE_CHANNELS,
        }
    ),
    # The supervisor reads how the desk responds and changes nothing.
    Role.SUPERVISOR: frozenset({Capability.VIEW_HOME, Capability.READ_DESK, Capability.READ_METRICS}),
    # The administrator runs accounts and people; citizens' conversations are not theirs to read.
    Role.ADMINISTRATOR: frozenset(
        {
            Capability.VIEW_HOME,
            Capability.READ_METRICS,
            Capability.VIEW_CHANNELS,
            Capability.MANAGE_CHANNELS,
            Capability.MANAGE_USERS,
        }
    ),
}


def capabilities_of(user) -> frozenset[Capability]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return ROLE_CAPABILITIES[Role.ADMINISTRATOR]
    return ROLE_CAPABILITIES.get(user.role, frozenset())


def user_can(user, capability: Capability) -> bool:
    return capability in capabilities_of(user)


def require(capability: Capability) -> Callable:
    """Refuse the view (403) to anyone without ``capability``.

    The login itself is enforced by LoginRequiredMiddleware; this decorator marks the view with
    the capability it needs so a test can check that every URL names one.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not user_can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded.required_capability = capability
        return guarded

    return decorator
