"""The audit log's only writer."""

from django.db import models

from socialdesk.models.audit import AuditAction, AuditEvent


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: AuditAction,
    actor=None,
    actor_label: str = "",
    target: models.Model | None = None,
    details: dict | None = None,
    request=None,
) -> AuditEvent:
    """Append one event. ``actor`` may be None for the system (a worker) or an unknown person."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else ""),
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        details=details or {},
        ip_address=_client_ip(request),
    )
