"""The home page says how much curation waits: new items in the queue and sources needing attention."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import FetchStatus, HiddenReason, ItemState, Source
from curation.selectors import SILENT_AFTER, source_health, sources_needing_attention_count
from tests.curation.items import make_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def sources_in_every_state(make_source):
    now = timezone.now()
    long_ago = now - SILENT_AFTER - timedelta(days=1)
    fine = make_source(name="Bien")
    Source.objects.filter(pk=fine.pk).update(last_status=FetchStatus.OK, last_success_at=now, last_new_item_at=now)
    failing = make_source(name="Falla")
    Source.objects.filter(pk=failing.pk).update(last_status=FetchStatus.ERROR)
    muted = make_source(name="Callada")
    Source.objects.filter(pk=muted.pk).update(muted=True, muted_reason="Anuncios")
    silent = make_source(name="Silenciosa")
    Source.objects.filter(pk=silent.pk).update(
        last_status=FetchStatus.OK, last_success_at=now, last_new_item_at=long_ago
    )
    never_new = make_source(name="Nunca nada")  # fetched fine, never brought an item, created long ago
    Source.objects.filter(pk=never_new.pk).update(
        last_status=FetchStatus.OK, last_success_at=now, last_new_item_at=None, created_at=long_ago
    )
    make_source(name="Sin leer")  # never fetched: nothing to say yet
    return [fine, failing, muted, silent, never_new]


def test_the_count_agrees_with_the_health_page(sources_in_every_state):
    health = source_health()
    assert {row.source.name for row in health if row.needs_attention} == {
        "Falla",
        "Callada",
        "Silenciosa",
        "Nunca nada",
    }
    assert sources_needing_attention_count() == 4


def test_the_manager_sees_new_items_and_sources_needing_attention(manager_client, sources_in_every_state):
    fine = sources_in_every_state[0]
    make_item(fine, "a")
    make_item(fine, "b")
    make_item(fine, "c", state=ItemState.SHORTLISTED)
    make_item(fine, "d", hidden_reason=HiddenReason.DUPLICATE)

    response = manager_client.get(reverse("home"))
    summary = response.context["summary"]
    assert (summary.new_items, summary.sources_needing_attention) == (2, 4)
    page = response.content.decode()
    assert f'href="{reverse("curation:queue")}"' in page
    assert f'href="{reverse("curation:sources")}"' in page


def test_the_administrator_is_not_shown_curation(client, administrator, sources_in_every_state):
    client.force_login(administrator)
    summary = client.get(reverse("home")).context["summary"]
    assert summary.new_items is None and summary.sources_needing_attention is None
