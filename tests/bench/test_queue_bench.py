"""The queue benchmark's items: the proportions its docstring promises, readable by the queue's pages."""

import pytest

from bench.bench_curation_queue import _add_items, _figures
from curation.models import Item
from curation.selectors import queue_counts
from curation.services import source_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _source_id() -> int:
    return source_create(name="Fuente", url="https://empleo.example.org/rss").pk


def test_the_generated_items_have_a_desks_proportions():
    _add_items(_source_id(), 1, 1000)

    assert Item.objects.count() == 1000
    assert Item.objects.filter(hidden_reason="duplicate").count() == 100
    counts = queue_counts()  # visible ones only
    # Three in five new (the duplicates among them), one in five shortlisted, one discarded.
    assert (counts["new"], counts["shortlisted"], counts["discarded"]) == (500, 200, 200)


def test_each_figure_is_a_time_of_a_page_that_has_rows():
    _add_items(_source_id(), 1, 200)

    figures = _figures(200)

    assert [label for label, _value in figures] == [
        "200 items: queue tab counts",
        "200 items: queue, first page of 50",
        "200 items: queue, page 200",
        "200 items: hidden items, first page",
    ]
    assert all(value.endswith(" ms") and float(value.split()[0]) > 0 for _label, value in figures)
