"""The admin changes sources and items through the same services as the desk."""

import pytest
from django.urls import reverse

from curation.models import HiddenReason, Item, ItemState, Source
from socialdesk.models import User


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", password="root-password-123"))
    return client


FORM = {
    "name": "LABORA",
    "kind": "feed",
    "url": "https://labora.example.es/rss",
    "time_zone": "Europe/Madrid",
    "selector_syntax": "css",
}


def test_adding_and_changing_a_source_in_the_admin_goes_through_the_services(admin_client):
    response = admin_client.post(reverse("admin:curation_source_add"), FORM)
    assert response.status_code == 302
    source = Source.objects.get()
    assert source.host == "labora.example.es"
    Source.objects.filter(pk=source.pk).update(etag='"old"')

    admin_client.post(
        reverse("admin:curation_source_change", args=[source.pk]),
        {**FORM, "url": "https://sepe.example.es/rss"},
    )

    source.refresh_from_db()
    assert (source.host, source.etag) == ("sepe.example.es", "")


def test_deleting_a_source_in_the_admin_keeps_its_duplicates_visible(admin_client, make_source):
    gone, kept = make_source(), make_source()
    original = Item.objects.create(source=gone, guid="o", guid_hash="o", title="O")
    copy = Item.objects.create(
        source=kept,
        guid="c",
        guid_hash="c",
        title="C",
        duplicate_of=original,
        hidden_reason=HiddenReason.DUPLICATE,
    )

    admin_client.post(reverse("admin:curation_source_delete", args=[gone.pk]), {"post": "yes"})

    copy.refresh_from_db()
    assert not Source.objects.filter(pk=gone.pk).exists()
    assert (copy.duplicate_of, copy.hidden_reason) == (None, "")


def test_item_actions_in_the_admin(admin_client, make_source):
    item = Item.objects.create(source=make_source(), guid="i", guid_hash="i", title="I")
    admin_client.post(
        reverse("admin:curation_item_changelist"), {"action": "shortlist", "_selected_action": [item.pk]}
    )
    item.refresh_from_db()
    assert item.state == ItemState.SHORTLISTED
    assert item.state_changed_by.username == "root"
