"""One citizen, several identities: the manager merges contacts and undoes it per identity."""

import pytest
from django.urls import reverse

from inbox.models import Contact
from inbox.privacy import contact_erase
from inbox.services import InboxRefused, contact_merge
from tests.inbox.helpers import citizen_writes, fresh
from tests.networks.fixtures import make_sandbox_channel


def two_contacts(sandbox_channel):
    lucia = citizen_writes(
        sandbox_channel, "Hola", author_id="lucia-1", author_name="Lucía Moreno"
    ).conversation
    other = citizen_writes(
        sandbox_channel, "Soy yo otra vez", thread_key="t-2", author_id="lucia-2", author_name="Lucía M."
    ).conversation
    return lucia, other


def test_merging_puts_both_histories_together_and_detaching_undoes_it(manager_client, sandbox_channel):
    lucia, other = two_contacts(sandbox_channel)

    candidates = manager_client.get(reverse("inbox:contact_candidates", args=[lucia.pk]), {"q": "Lucía M"})
    assert candidates.context["candidates"] == [other.contact]

    manager_client.post(reverse("inbox:contact_merge", args=[lucia.pk]), {"contact": other.contact_id})

    assert Contact.objects.count() == 1
    assert fresh(other).contact_id == fresh(lucia).contact_id
    response = manager_client.get(reverse("inbox:conversation", args=[lucia.pk]))
    assert response.context["history"] == [fresh(other)]

    identity = fresh(other).messages.get().author
    manager_client.post(reverse("inbox:identity_detach", args=[lucia.pk, identity.pk]))

    assert Contact.objects.count() == 2
    assert fresh(other).contact_id != fresh(lucia).contact_id
    assert fresh(other).contact.display_name == "Lucía M."


def test_a_contact_is_not_merged_with_itself_nor_its_only_identity_detached(manager_client, sandbox_channel):
    lucia = citizen_writes(sandbox_channel, "Hola").conversation
    identity = lucia.messages.get().author

    manager_client.post(reverse("inbox:contact_merge", args=[lucia.pk]), {"contact": lucia.contact_id})
    manager_client.post(reverse("inbox:identity_detach", args=[lucia.pk, identity.pk]))

    assert Contact.objects.count() == 1


def test_the_supervisor_cannot_merge_or_detach(supervisor_client, sandbox_channel):
    lucia, other = two_contacts(sandbox_channel)
    identity = other.messages.get().author

    merge = supervisor_client.post(
        reverse("inbox:contact_merge", args=[lucia.pk]), {"contact": other.contact_id}
    )
    detach = supervisor_client.post(reverse("inbox:identity_detach", args=[lucia.pk, identity.pk]))

    assert (merge.status_code, detach.status_code) == (403, 403)
    assert Contact.objects.count() == 2


def test_an_identity_on_another_channel_of_the_same_network_is_the_same_contact(sandbox_channel):
    _, other_channel = make_sandbox_channel("otra", "Otra cuenta")
    one = citizen_writes(sandbox_channel, "Hola").conversation
    two = citizen_writes(other_channel, "Hola de nuevo", thread_key="t-9").conversation
    assert one.contact_id == two.contact_id


def test_an_erased_contact_is_never_offered_nor_merged(manager_client, manager, sandbox_channel):
    lucia, other = two_contacts(sandbox_channel)
    contact_erase(contact=other.contact, actor=manager)
    erased_name = fresh(other).contact.display_name

    for words in (erased_name, "Lucía"):
        candidates = manager_client.get(reverse("inbox:contact_candidates", args=[lucia.pk]), {"q": words})
        assert candidates.context["candidates"] == []

    manager_client.post(reverse("inbox:contact_merge", args=[lucia.pk]), {"contact": other.contact_id})
    manager_client.post(reverse("inbox:contact_merge", args=[other.pk]), {"contact": lucia.contact_id})

    assert Contact.objects.count() == 2
    assert fresh(other).contact_id != fresh(lucia).contact_id
    with pytest.raises(InboxRefused):
        contact_merge(contact=lucia.contact, other=fresh(other).contact)
