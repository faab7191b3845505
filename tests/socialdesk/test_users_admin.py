"""Roles change only through user_set_role, and only administrators reach the Django admin."""

from datetime import date, time

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from socialdesk.admin import AdministratorAdmin
from socialdesk.business_calendar import business_calendar
from socialdesk.models import AuditEvent, Role, User, WorkingInterval
from socialdesk.models.audit import AuditAction
from socialdesk.users import user_set_role


@pytest.fixture
def administrator_client(client, administrator):
    # The cast's administrator is created without is_staff; setting the role again puts it right.
    user_set_role(user=administrator, role=Role.ADMINISTRATOR, by=administrator)
    client.force_login(administrator)
    return client


def role_events():
    return AuditEvent.objects.filter(action=AuditAction.ROLE_CHANGED)


# --- The service ----------------------------------------------------------------------------------


def test_role_change_moves_admin_access_with_it_and_is_recorded(administrator, manager):
    user_set_role(user=manager, role=Role.ADMINISTRATOR, by=administrator)
    manager.refresh_from_db()
    assert (manager.role, manager.is_staff) == (Role.ADMINISTRATOR, True)

    user_set_role(user=manager, role=Role.SUPERVISOR, by=administrator)
    manager.refresh_from_db()
    assert (manager.role, manager.is_staff) == (Role.SUPERVISOR, False)

    events = list(role_events().order_by("id"))
    assert [event.details for event in events] == [
        {"from": "manager", "to": "administrator"},
        {"from": "administrator", "to": "supervisor"},
    ]
    assert {(event.actor, event.actor_label, event.target_id) for event in events} == {
        (administrator, "ana", str(manager.pk))
    }


def test_setting_the_same_role_records_nothing(administrator, manager):
    user_set_role(user=manager, role=Role.MANAGER, by=administrator)
    assert not role_events().exists()


def test_removing_a_role_leaves_a_user_who_sees_nothing(administrator, manager):
    user_set_role(user=manager, role="", by=administrator)
    manager.refresh_from_db()
    assert manager.role == ""
    assert role_events().get().details == {"from": "manager", "to": ""}


@pytest.mark.parametrize("by", ["manager", "supervisor", "outsider"])
def test_only_someone_who_manages_users_may_change_roles(request, by, supervisor):
    actor = request.getfixturevalue(by)
    with pytest.raises(PermissionDenied):
        user_set_role(user=supervisor, role=Role.ADMINISTRATOR, by=actor)
    supervisor.refresh_from_db()
    assert (supervisor.role, supervisor.is_staff) == (Role.SUPERVISOR, False)
    assert not role_events().exists()


def test_unknown_role_is_refused(administrator, manager):
    with pytest.raises(ValidationError) as refused:
        user_set_role(user=manager, role="owner", by=administrator)
    assert refused.value.code == "unknown_role"


def test_the_last_administrator_cannot_lose_the_role(administrator):
    with pytest.raises(ValidationError) as refused:
        user_set_role(user=administrator, role=Role.MANAGER, by=administrator)
    assert refused.value.code == "last_administrator"
    administrator.refresh_from_db()
    assert administrator.role == Role.ADMINISTRATOR


def test_an_administrator_can_step_down_once_there_is_another(administrator, manager):
    user_set_role(user=manager, role=Role.ADMINISTRATOR, by=administrator)
    user_set_role(user=administrator, role=Role.MANAGER, by=administrator)
    administrator.refresh_from_db()
    assert (administrator.role, administrator.is_staff) == (Role.MANAGER, False)


def test_an_inactive_administrator_does_not_count_as_another(administrator, manager):
    user_set_role(user=manager, role=Role.ADMINISTRATOR, by=administrator)
    User.objects.filter(pk=manager.pk).update(is_active=False)
    with pytest.raises(ValidationError):
        user_set_role(user=administrator, role=Role.MANAGER, by=administrator)


def test_a_superuser_keeps_the_admin_whatever_the_role(db, administrator):
    root = User.objects.create_superuser(username="root", password="root-password-123")
    user_set_role(user=root, role=Role.SUPERVISOR, by=administrator)
    root.refresh_from_db()
    assert (root.role, root.is_staff) == (Role.SUPERVISOR, True)


# --- Who reaches the admin --------------------------------------------------------------------

ADMIN_PAGES = [
    "/admin/",
    "/admin/socialdesk/user/",
    "/admin/socialdesk/auditevent/",
    "/admin/socialdesk/closedday/add/",
    "/admin/socialdesk/workinginterval/",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
@pytest.mark.parametrize("who", ["manager", "supervisor", "outsider"])
def test_only_administrators_reach_the_admin(client, request, who, url):
    person = request.getfixturevalue(who)
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("who", ["manager", "supervisor"])
def test_a_stray_staff_flag_does_not_open_the_admin(client, request, who):
    person = request.getfixturevalue(who)
    User.objects.filter(pk=person.pk).update(is_staff=True)
    client.force_login(person)
    assert client.get("/admin/socialdesk/user/").status_code == 302


def test_an_administrator_without_the_staff_flag_is_kept_out(client, administrator):
    client.force_login(administrator)
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_administrator_reaches_every_admin_page(administrator_client, url):
    assert administrator_client.get(url).status_code == 200


def test_superuser_reaches_the_admin(client, db):
    client.force_login(User.objects.create_superuser(username="root", password="root-password-123"))
    assert client.get("/admin/socialdesk/user/").status_code == 200


def test_groups_are_not_offered(administrator_client):
    from django.contrib import admin

    assert not admin.site.is_registered(Group)
    assert administrator_client.get("/admin/auth/group/").status_code == 404


def test_every_socialdesk_model_admin_follows_the_site_rule():
    from django.contrib import admin

    ours = [
        model_admin
        for model_admin in admin.site._registry.values()
        if model_admin.opts.app_label == "socialdesk"
    ]
    assert len(ours) == 4
    assert all(isinstance(model_admin, AdministratorAdmin) for model_admin in ours)


# --- Users in the admin ------------------------------------------------------------------------


def change_form(user: User, **changes) -> dict:
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on",
    }
    return {**form, **changes}


def test_role_edited_in_the_admin_goes_through_the_service(administrator_client, administrator, supervisor):
    url = reverse("admin:socialdesk_user_change", args=[supervisor.pk])
    response = administrator_client.post(url, change_form(supervisor, role=Role.ADMINISTRATOR))
    assert response.status_code == 302
    supervisor.refresh_from_db()
    assert (supervisor.role, supervisor.is_staff) == (Role.ADMINISTRATOR, True)
    event = role_events().get()
    assert (event.actor, event.target_id, event.details) == (
        administrator,
        str(supervisor.pk),
        {"from": "supervisor", "to": "administrator"},
    )
    assert event.ip_address == "127.0.0.1"


def test_other_edits_in_the_admin_record_no_role_change(administrator_client, supervisor):
    url = reverse("admin:socialdesk_user_change", args=[supervisor.pk])
    assert administrator_client.post(url, change_form(supervisor, first_name="Sergi")).status_code == 302
    supervisor.refresh_from_db()
    assert supervisor.first_name == "Sergi"
    assert not role_events().exists()


def test_staff_and_superuser_flags_cannot_be_set_in_the_admin(administrator_client, manager):
    url = reverse("admin:socialdesk_user_change", args=[manager.pk])
    administrator_client.post(url, change_form(manager, is_staff="on", is_superuser="on"))
    manager.refresh_from_db()
    assert (manager.is_staff, manager.is_superuser) == (False, False)


def test_the_last_administrator_is_a_form_error_not_a_crash(administrator_client, administrator):
    url = reverse("admin:socialdesk_user_change", args=[administrator.pk])
    response = administrator_client.post(url, change_form(administrator, role=Role.MANAGER))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.as_data()["role"][0].code == "last_administrator"
    administrator.refresh_from_db()
    assert administrator.role == Role.ADMINISTRATOR


def test_new_user_with_a_role_is_recorded(administrator_client, administrator):
    response = administrator_client.post(
        reverse("admin:socialdesk_user_add"),
        {
            "username": "nuria",
            "usable_password": "true",
            "password1": "una-clave-bastante-larga-2026",
            "password2": "una-clave-bastante-larga-2026",
            "role": Role.MANAGER,
        },
    )
    assert response.status_code == 302
    nuria = User.objects.get(username="nuria")
    assert (nuria.role, nuria.is_staff) == (Role.MANAGER, False)
    assert role_events().get().details == {"from": "", "to": "manager"}
    assert role_events().get().actor == administrator


def test_users_are_deactivated_not_deleted(administrator_client, manager):
    response = administrator_client.post(
        reverse("admin:socialdesk_user_delete", args=[manager.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert User.objects.filter(pk=manager.pk).exists()


# --- Office hours, closed days, audit log in the admin -----------------------------------------


def test_closed_day_added_in_the_admin_closes_the_calendar(administrator_client):
    WorkingInterval.objects.create(weekday=2, starts_at=time(8), ends_at=time(15))
    response = administrator_client.post(
        reverse("admin:socialdesk_closedday_add"), {"date": "2026-07-15", "name": "Fiesta local"}
    )
    assert response.status_code == 302
    assert business_calendar().is_closed(date(2026, 7, 15))


def test_working_interval_must_end_after_it_starts(administrator_client):
    response = administrator_client.post(
        reverse("admin:socialdesk_workinginterval_add"),
        {"weekday": 0, "starts_at": "15:00", "ends_at": "08:00"},
    )
    assert response.status_code == 200
    assert not WorkingInterval.objects.exists()


def test_audit_log_is_read_only_even_for_a_superuser(client, db):
    root = User.objects.create_superuser(username="root", password="root-password-123")
    client.force_login(root)  # writes a LOGIN event
    event = AuditEvent.objects.get()
    change_url = reverse("admin:socialdesk_auditevent_change", args=[event.pk])

    assert client.get(reverse("admin:socialdesk_auditevent_changelist")).status_code == 200
    page = client.get(change_url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.get(reverse("admin:socialdesk_auditevent_add")).status_code == 403
    assert client.post(change_url, {"actor_label": "someone else", "action": "logout"}).status_code == 403
    delete_url = reverse("admin:socialdesk_auditevent_delete", args=[event.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk_delete = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    client.post(reverse("admin:socialdesk_auditevent_changelist"), bulk_delete)
    event.refresh_from_db()
    assert event.actor_label == "root"
