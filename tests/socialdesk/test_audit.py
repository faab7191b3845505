"""The audit log: signing in and out, failed attempts (never the password) and role changes."""

import json

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from socialdesk.models import AuditEvent, Role
from socialdesk.models.audit import AuditAction
from socialdesk.users import user_set_role

WRONG_PASSWORD = "Tr0ub4dor&3-not-hers"


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def everything_recorded() -> str:
    return json.dumps([model_to_dict(event) for event in AuditEvent.objects.all()], default=str)


def test_signing_in_is_recorded(client, manager):
    assert sign_in(client, "marta", "marta-password-123").status_code == 302
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.actor_label) == (AuditAction.LOGIN, manager, "marta")
    assert event.ip_address == "127.0.0.1"


def test_signing_out_is_recorded(client, manager):
    sign_in(client, "marta", "marta-password-123")
    assert client.post(reverse("logout")).status_code == 302
    assert list(AuditEvent.objects.order_by("id").values_list("action", "actor")) == [
        (AuditAction.LOGIN, manager.pk),
        (AuditAction.LOGOUT, manager.pk),
    ]


def test_signing_out_without_a_session_records_nothing(client, db):
    client.post(reverse("logout"))
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("username", ["marta", "no-such-person"])
def test_failed_sign_in_keeps_the_username_tried_and_never_the_password(client, manager, username):
    response = sign_in(client, username, WRONG_PASSWORD)
    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.actor_label) == (AuditAction.LOGIN_FAILED, None, username)
    assert event.ip_address == "127.0.0.1"
    assert WRONG_PASSWORD not in everything_recorded()
    assert "password" not in everything_recorded()


def test_role_change_records_who_made_it_even_after_they_leave(administrator, supervisor, manager):
    user_set_role(user=manager, role=Role.ADMINISTRATOR, by=administrator)
    user_set_role(user=supervisor, role=Role.MANAGER, by=manager)
    manager.delete()

    event = AuditEvent.objects.get(action=AuditAction.ROLE_CHANGED, target_id=str(supervisor.pk))
    assert (event.actor, event.actor_label) == (None, "marta")
    assert (event.target_type, event.target_label) == ("socialdesk.User", "Sergio")
    assert event.details == {"from": "supervisor", "to": "manager"}
