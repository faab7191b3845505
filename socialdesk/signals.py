from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from socialdesk.audit import audit_record
from socialdesk.models.audit import AuditAction


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    audit_record(action=AuditAction.LOGIN, actor=user, request=request)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, actor=user, request=request)


@receiver(user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs):
    # The username tried is kept; the password never is (Django already masks it).
    audit_record(
        action=AuditAction.LOGIN_FAILED, actor_label=str(credentials.get("username", ""))[:150], request=request
    )


@receiver(user_locked_out)
def record_lockout(sender, request, username, ip_address, **kwargs):
    audit_record(action=AuditAction.LOGIN_LOCKED, actor_label=str(username or "")[:150], request=request)
