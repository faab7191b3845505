"""Draft posts composed from curated items: the service and the drafts page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation import services as curation_services
from curation.models import ItemState, Topic
from curation.services import source_create
from scheduling.models import Post, PostStatus
from scheduling.services import post_draft_from_item
from tests.curation.items import make_item


@pytest.fixture
def source(db):
    return source_create(name="LABORA", url="https://labora.example.es/rss")


def test_a_draft_from_an_item_carries_its_title_link_and_hashtags(source, manager):
    topic = Topic.objects.get(slug="job-fairs")
    item = make_item(source, "fair", title="Fira d'ocupació", canonical_url="https://e.org/fira", topic=topic)

    post = post_draft_from_item(item=item, by=manager)

    assert post.text == "Fira d'ocupació https://e.org/fira #FeriaDeEmpleo #FiraOcupació"
    assert (post.link, post.topic, post.status, post.source_item, post.created_by) == (
        "https://e.org/fira",
        topic,
        PostStatus.DRAFT,
        item,
        manager,
    )
    item.refresh_from_db()
    assert (item.state, item.state_changed_by) == (ItemState.USED, manager)


def test_an_item_without_topic_gives_a_draft_without_hashtags(source, manager):
    item = make_item(source, "plain", title="Aviso", url="https://e.org/aviso")
    post = post_draft_from_item(item=item, by=manager)
    assert (post.text, post.topic) == ("Aviso https://e.org/aviso", None)


def test_no_draft_is_left_behind_when_marking_the_item_fails(source, manager, monkeypatch):
    item = make_item(source, "x")

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("scheduling.services.item_mark_used", broken)
    with pytest.raises(RuntimeError):
        post_draft_from_item(item=item, by=manager)

    assert not Post.objects.exists()
    item.refresh_from_db()
    assert item.state == ItemState.NEW
    assert curation_services.item_mark_used is not broken


def test_the_drafts_page_lists_drafts_newest_first_escaped(supervisor_client, source, manager):
    first = post_draft_from_item(item=make_item(source, "a", title="Primera"), by=manager)
    second = post_draft_from_item(item=make_item(source, "b", title="<script>alert(1)</script>"), by=manager)

    page = supervisor_client.get(reverse("scheduling:drafts")).content.decode()

    assert page.index(f'id="post-{second.pk}"') < page.index(f'id="post-{first.pk}"')
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f'href="{reverse("curation:item", args=[first.source_item_id])}"' in page
    assert "Marta" in page  # who started it


def test_the_drafts_page_takes_the_same_queries_for_5_or_50_drafts(
    manager_client, source, manager, django_assert_max_num_queries
):
    counted = []
    for drafts in (5, 45):
        for _ in range(drafts):
            post_draft_from_item(item=make_item(source, f"i{Post.objects.count()}"), by=manager)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(5):
            response = manager_client.get(reverse("scheduling:drafts"))
        assert len(response.context["page"].object_list) == Post.objects.count()
        counted.append(len(queries))
    assert counted[0] == counted[1]
