"""Triage: new → shortlisted → used / discarded, one at a time or in bulk."""

import pytest

from curation.models import Item, ItemState
from curation.services import (
    item_discard,
    item_mark_used,
    item_restore,
    item_shortlist,
    items_discard,
    items_mark_used,
    items_set_state,
    items_shortlist,
)


@pytest.fixture
def items(make_source):
    source = make_source()
    return [
        Item.objects.create(source=source, guid=f"g{n}", guid_hash=f"g{n}", title=f"Item {n}")
        for n in range(3)
    ]


def test_one_item_moves_through_the_states_and_remembers_who(items, manager):
    item = items[0]
    assert item_shortlist(item=item, actor=manager).state == ItemState.SHORTLISTED
    assert item.state_changed_by == manager and item.state_changed_at is not None
    assert item_mark_used(item=item, actor=manager).state == ItemState.USED
    assert item_restore(item=item).state == ItemState.NEW
    assert item.state_changed_by is None  # the system (no person) did the last change
    assert item_discard(item=item, actor=manager).state == ItemState.DISCARDED


def test_bulk_actions_change_only_what_needs_changing(items, manager):
    ids = [item.pk for item in items]
    assert items_shortlist(item_ids=ids[:2], actor=manager) == 2
    assert items_shortlist(item_ids=ids, actor=manager) == 1
    assert items_discard(item_ids=ids[:1], actor=manager) == 1
    assert items_mark_used(item_ids=ids[1:], actor=manager) == 2
    assert dict(Item.objects.values_list("guid", "state")) == {
        "g0": ItemState.DISCARDED,
        "g1": ItemState.USED,
        "g2": ItemState.USED,
    }


def test_an_unknown_state_is_refused(items):
    with pytest.raises(ValueError):
        items_set_state(item_ids=[items[0].pk], state="published")
