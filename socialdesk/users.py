"""People: the one way a role changes."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from socialdesk.access import Capability, user_can
from socialdesk.audit import audit_record
from socialdesk.models import Role, User
from socialdesk.models.audit import AuditAction


def user_role_change_validate(*, user: User, role: str) -> None:
    """Raise ValidationError if ``user`` may not be given ``role`` ("" for none)."""
    if role and role not in Role.values:
        raise ValidationError(_("Unknown role: %(role)s"), code="unknown_role", params={"role": role})
    losing_admin = user.role == Role.ADMINISTRATOR and role != Role.ADMINISTRATOR and not user.is_superuser
    if losing_admin and not _administrators().exclude(pk=user.pk).exists():
        # Nobody else could give the role back: the Django admin would be locked for good.
        raise ValidationError(
            _("%(user)s is the last administrator; make someone else an administrator first."),
            code="last_administrator",
            params={"user": user},
        )


def user_set_role(*, user: User, role: str, by: User, request: HttpRequest | None = None) -> User:
    """Give ``user`` the role ``role`` ("" for none) on ``by``'s decision, and record it.

    The Django admin (``is_staff``) follows the role: administrators and superusers only.
    Setting the role a user already has records nothing. Updates and returns ``user``.
    """
    if not user_can(by, Capability.MANAGE_USERS):
        raise PermissionDenied
    with transaction.atomic():
        # Lock the administrators too (in one order, so two changes cannot deadlock): two of them
        # demoting each other at once must not both pass the last-administrator check.
        locked = User.objects.select_for_update().filter(Q(pk=user.pk) | _administrators_q()).order_by("pk")
        current = next(locked_user for locked_user in locked if locked_user.pk == user.pk)
        user_role_change_validate(user=current, role=role)
        previous = current.role
        is_staff = current.is_superuser or role == Role.ADMINISTRATOR
        if previous != role or current.is_staff != is_staff:
            current.role, current.is_staff = role, is_staff
            current.save(update_fields=["role", "is_staff"])
        if previous != role:
            audit_record(
                action=AuditAction.ROLE_CHANGED,
                actor=by,
                target=current,
                details={"from": previous, "to": role},
                request=request,
            )
    # The caller's instance tells the truth too.
    user.role, user.is_staff = current.role, current.is_staff
    return user


def _administrators_q() -> Q:
    return Q(is_active=True) & (Q(role=Role.ADMINISTRATOR) | Q(is_superuser=True))


def _administrators():
    return User.objects.filter(_administrators_q())
