"""The curation benchmark's generated feeds and server: the bench is only as honest as these."""

import statistics
from datetime import UTC, datetime

import fastfeedparser
import pytest

from bench.curation_floor import STEPS, connection_params, floor_cpu, keyword_automaton
from bench.feedgen import KB, MB, SIZE_CAP, build_feeds, heavy_tail_sizes, median_sizes
from bench.feedserver import FeedServer
from lib.safe_fetch import safe_get
from lib.text import spaced_words

BASE = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_the_heavy_tail_has_the_asked_total_median_and_cap():
    sizes = heavy_tail_sizes(200, 45 * MB)
    assert abs(sum(sizes) - 45 * MB) < MB
    assert 55 * KB < statistics.median(sizes) < 65 * KB
    assert max(sizes) == SIZE_CAP


def test_generated_feeds_have_the_asked_size_real_world_markup_and_parse():
    sizes = [40 * KB, 60 * KB, 300 * KB]
    feeds = build_feeds(sizes, seed=7, base=BASE)
    for feed, size in zip(feeds, sizes, strict=True):
        assert abs(len(feed.body) - size) < size * 0.1
        parsed = fastfeedparser.parse(feed.body)
        assert 20 <= len(parsed["entries"]) <= 100
    text = b"".join(feed.body for feed in build_feeds(median_sizes(30), seed=7, base=BASE))
    for marker in (b"script", b"width=", b"onclick", b"utm_source", b"iframe"):
        assert marker in text


def test_the_same_seed_and_base_build_the_same_bytes():
    assert build_feeds([40 * KB], seed=3, base=BASE) == build_feeds([40 * KB], seed=3, base=BASE)


@pytest.fixture(scope="module")
def server():
    with FeedServer(median_sizes(40), seed=5, base=BASE) as running:
        yield running


def test_the_server_answers_304_to_its_own_validators_and_the_same_body_otherwise(server):
    with_validators = next(info for info in server.feeds if info.has_validators)
    first = safe_get(server.url(with_validators), user_agent="bench", allow_private=["127.0.0.0/8"])
    again = safe_get(
        server.url(with_validators),
        user_agent="bench",
        etag=first.headers.get("etag"),
        last_modified=first.headers.get("last-modified"),
        allow_private=["127.0.0.0/8"],
    )
    assert (first.status, len(first.body), again.status) == (200, with_validators.size, 304)
    without = [info for info in server.feeds if not info.has_validators]
    for info in without:
        one = safe_get(server.url(info), user_agent="bench", allow_private=["127.0.0.0/8"])
        two = safe_get(server.url(info), user_agent="bench", allow_private=["127.0.0.0/8"])
        assert one.status == two.status == 200
        assert one.body == two.body
        assert "etag" not in one.headers and "last-modified" not in one.headers


def test_the_floor_keyword_automaton_finds_keywords_by_whole_folded_words_and_plurals():
    automaton = keyword_automaton(["oferta de empleo", "Formació"])

    def found(text: str) -> int:
        return len(list(automaton.iter(spaced_words(text))))

    assert found("Ofertas de EMPLEO y formacions") == 2
    assert found("ofertante de empleos") == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_floor_does_each_step_over_every_entry_of_the_feeds(server):
    from django.db import connection

    urls = [server.url(info) for info in server.feeds]
    feeds = build_feeds(median_sizes(40), seed=5, base=BASE)  # what the server serves
    entries = sum(len(fastfeedparser.parse(feed.body)["entries"]) for feed in feeds)

    floor = floor_cpu(urls, keyword_automaton(["empleo"]), connection_params(connection))

    assert floor.rows == entries > 0
    assert set(floor.steps) == set(STEPS) and floor.cpu_seconds == sum(floor.steps.values()) > 0
