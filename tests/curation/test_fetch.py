"""The fetch pipeline end to end against a real HTTP server on loopback."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from curation import services
from curation.models import FetchErrorKind, FetchStatus, HiddenReason, Item, Source, SourceKind
from curation.services import _source_by_id, backoff_delay, next_fetch_delay, source_fetch, sources_claim
from tests.curation.conftest import rss, rss_item

pytestmark = pytest.mark.usefixtures("allow_loopback")

OFFER = rss_item(
    "offer-1",
    "Oferta de empleo: auxiliar administrativo",
    "https://empleo.example.org/ofertas/1?utm_source=rss&amp;utm_medium=feed",
    '<p onclick="steal()">Plazo hasta el viernes.<script>alert(1)</script>'
    '<img src="https://stats.wordpress.com/b.gif" width="1" height="1"></p>',
    "Tue, 03 Mar 2026 10:00:00 +0100",
)
COURSE = rss_item("course-1", "Curso de formación en soldadura", "/cursos/7", "<p>Inscripción abierta.</p>")


def test_first_fetch_stores_sanitized_scored_items_and_schedules_the_next(feed_server, make_source, settings):
    settings.SOCIALDESK_CONTACT_URL = "https://org.example/contacto"
    url = feed_server.serve("/rss", rss(OFFER, COURSE), content_type="application/rss+xml")
    source = make_source(url)
    before = timezone.now()

    report = source_fetch(source=source)

    assert report.status == FetchStatus.OK
    assert report.new_items == 2
    assert report.parser == "fastfeedparser"
    offer = Item.objects.get(guid="offer-1")
    assert offer.url == "https://empleo.example.org/ofertas/1?utm_source=rss&utm_medium=feed"
    assert offer.canonical_url == "https://empleo.example.org/ofertas/1"
    assert "script" not in offer.summary_html and "onclick" not in offer.summary_html
    assert "stats.wordpress.com" not in offer.summary_html
    assert "Plazo hasta el viernes." in offer.summary_html
    assert offer.topic.slug == "employment"
    assert {"word": "oferta de empleo", "weight": 5, "topic": "employment"} in offer.score_reasons
    course = Item.objects.get(guid="course-1")
    assert course.url == f"http://127.0.0.1:{feed_server.port}/cursos/7"  # relative link resolved
    assert course.topic.slug == "training"
    source.refresh_from_db()
    assert source.claimed_until is None
    assert source.consecutive_errors == 0
    assert source.last_success_at >= before
    assert before + timedelta(minutes=60) <= source.next_fetch_at <= timezone.now() + timedelta(minutes=66)
    user_agent = feed_server.hits("/rss")[0]["user-agent"]
    assert "https://org.example/contacto" in user_agent


def test_conditional_get_sends_stored_validators_and_304_changes_nothing(feed_server, make_source):
    def answer(headers):
        from tests.curation.conftest import Answer

        if headers.get("if-none-match") == '"v1"':
            return Answer(304, b"", {"ETag": '"v1"'})
        return Answer(200, rss(OFFER), {"ETag": '"v1"', "Last-Modified": "Tue, 03 Mar 2026 09:00:00 GMT"})

    feed_server.routes["/rss"] = answer
    source = make_source(feed_server.url("/rss"))
    source_fetch(source=source)
    report = source_fetch(source=source)

    second = feed_server.hits("/rss")[1]
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == "Tue, 03 Mar 2026 09:00:00 GMT"
    assert report.status == FetchStatus.NOT_MODIFIED
    assert report.new_items == 0
    source.refresh_from_db()
    assert source.etag == '"v1"'
    assert Item.objects.count() == 1


def test_same_body_is_recognised_by_its_hash_and_not_parsed_again(feed_server, make_source, monkeypatch):
    source = make_source(feed_server.serve("/rss", rss(OFFER)))
    source_fetch(source=source)

    def must_not_parse(**kwargs):
        raise AssertionError("an unchanged body was parsed again")

    monkeypatch.setattr(services, "parse_source_body", must_not_parse)
    report = source_fetch(source=source)

    assert report.status == FetchStatus.UNCHANGED
    assert Item.objects.count() == 1


def test_a_changed_feed_adds_only_the_new_items(feed_server, make_source):
    source = make_source(feed_server.serve("/rss", rss(OFFER)))
    source_fetch(source=source)
    feed_server.serve("/rss", rss(COURSE, OFFER))

    report = source_fetch(source=source)

    assert report.new_items == 1
    assert sorted(Item.objects.values_list("guid", flat=True)) == ["course-1", "offer-1"]


def test_410_mutes_the_source_with_the_reason(feed_server, make_source):
    source = make_source(feed_server.serve("/gone", b"", status=410))

    report = source_fetch(source=source)

    source.refresh_from_db()
    assert report.status == FetchStatus.ERROR
    assert source.muted
    assert source.last_error_kind == FetchErrorKind.GONE
    with override("en"):
        assert "no longer exists" in source.error_message
    assert sources_claim(now=timezone.now() + timedelta(days=30)) == []


def test_429_waits_as_long_as_retry_after_asks(feed_server, make_source):
    source = make_source(feed_server.serve("/busy", b"slow down", status=429, retry_after="7200"))
    now = timezone.now()

    source_fetch(source=source, now=now)

    source.refresh_from_db()
    assert source.last_error_kind == FetchErrorKind.RATE_LIMITED
    assert source.next_fetch_at >= now + timedelta(hours=2)
    assert not source.muted


def test_server_errors_back_off_and_stay_visible_then_recover(feed_server, make_source):
    source = make_source(feed_server.serve("/rss", b"oops", status=500))
    now = timezone.now()

    source_fetch(source=source, now=now)
    source.refresh_from_db()
    assert source.consecutive_errors == 1
    assert now + timedelta(hours=1) <= source.next_fetch_at <= now + timedelta(hours=1.1)
    with override("en"):
        assert source.error_message == "The site answered with an error. (HTTP 500 Internal Server Error)"

    source_fetch(source=source, now=now)
    source.refresh_from_db()
    assert source.consecutive_errors == 2
    assert source.next_fetch_at >= now + timedelta(hours=2)

    feed_server.serve("/rss", rss(OFFER))
    source_fetch(source=source, now=now)
    source.refresh_from_db()
    assert source.consecutive_errors == 0
    assert source.last_error_kind == ""
    assert source.error_message == ""


def test_a_stored_error_reads_in_the_language_of_whoever_looks_at_it(feed_server, make_source):
    url = feed_server.serve("/ofertas.csv", b"puesto;lugar\nAuxiliar;Elche\n", content_type="text/csv")
    source = make_source(url, kind=SourceKind.CSV_LISTING, title_field="titulo")

    with override("es"):  # the worker's language: what is stored does not depend on it
        source_fetch(source=source)

    source.refresh_from_db()
    assert source.last_error_kind == FetchErrorKind.BAD_LISTING
    assert source.last_error_detail == "The listing has no column “titulo”."
    with override("en"):
        assert source.error_message == (
            "The listing could not be read with its field mapping. (The listing has no column “titulo”.)"
        )
    with override("es"):
        assert source.error_message == (
            "No se ha podido leer el listado con su correspondencia de campos. "
            "(El listado no tiene la columna «titulo».)"
        )
    with override("ca"):
        assert source.error_message.endswith("(El llistat no té la columna «titulo».)")


def test_a_listing_read_with_warnings_keeps_the_first_few_until_a_clean_read(feed_server, make_source):
    records = [{"titulo": f"Oferta {n}", "plazo": f"{n} de brumario"} for n in range(1, 8)]
    url = feed_server.serve("/ofertas.json", json.dumps(records).encode(), content_type="application/json")
    source = make_source(url, kind=SourceKind.JSON_LISTING, title_field="titulo", deadline_field="plazo")

    report = source_fetch(source=source)

    source.refresh_from_db()
    assert report.new_items == 7  # read, without their deadlines
    assert source.warning_count == 7
    with override("es"):
        assert source.warnings_in_plain_words == [
            f"No se ha podido leer la fecha límite «{n} de brumario»." for n in range(1, 6)
        ]

    feed_server.serve("/ofertas.json", json.dumps([{"titulo": "Oferta 8", "plazo": "1/12/2026"}]).encode())
    source_fetch(source=source)

    source.refresh_from_db()
    assert (source.warning_count, source.warnings_in_plain_words) == (0, [])


def test_a_detail_that_repeats_the_plain_words_is_not_shown_twice(feed_server, make_source):
    source = make_source(feed_server.serve("/empty", b"   ", content_type="application/rss+xml"))

    source_fetch(source=source)

    source.refresh_from_db()
    with override("es"):
        assert source.error_message == "La dirección no ha devuelto nada que leer."


def test_backoff_doubles_from_one_hour_and_is_capped_at_a_day():
    now = timezone.now()
    delays = [backoff_delay(errors_in_a_row=n, now=now) for n in (1, 2, 3, 5, 6, 40)]
    assert timedelta(hours=1) <= delays[0] <= timedelta(hours=1.1)
    assert timedelta(hours=2) <= delays[1] <= timedelta(hours=2.2)
    assert timedelta(hours=4) <= delays[2] <= timedelta(hours=4.4)
    assert timedelta(hours=16) <= delays[3] <= timedelta(hours=17.6)
    assert timedelta(hours=24) <= delays[4] <= timedelta(hours=26.4)
    assert delays[5] <= timedelta(hours=26.4)  # still tried every day, never given up


@pytest.mark.parametrize(
    ("headers", "ttl", "at_least", "at_most"),
    [
        ({}, None, timedelta(minutes=60), timedelta(minutes=66)),
        ({"cache-control": "public, max-age=7200"}, None, timedelta(hours=2), timedelta(hours=2.2)),
        ({"cache-control": "max-age=600"}, None, timedelta(minutes=60), timedelta(minutes=66)),
        ({"expires": "Tue, 03 Mar 2026 13:00:00 GMT", "date": "Tue, 03 Mar 2026 10:00:00 GMT"}, None,
         timedelta(hours=3), timedelta(hours=3.3)),
        ({}, 180, timedelta(hours=3), timedelta(hours=3.3)),
        ({}, 24 * 60, timedelta(hours=24), timedelta(hours=26.4)),
        ({"cache-control": "max-age=9999999"}, None, timedelta(hours=24), timedelta(hours=26.4)),
    ],
)  # fmt: skip
def test_next_fetch_respects_cache_headers_and_ttl_up_to_a_day(headers, ttl, at_least, at_most):
    delay = next_fetch_delay(
        interval=timedelta(minutes=60), headers=headers, now=timezone.now(), ttl_minutes=ttl
    )
    assert at_least <= delay <= at_most


def test_feed_ttl_is_read_and_capped(feed_server, make_source):
    source = make_source(feed_server.serve("/rss", rss(OFFER, channel_extra="<ttl>100000</ttl>")))
    now = timezone.now()

    source_fetch(source=source, now=now)

    source.refresh_from_db()
    assert now + timedelta(hours=24) <= source.next_fetch_at <= now + timedelta(hours=26.4)


def test_interval_override_and_its_floor(make_source):
    assert make_source(interval_minutes=30).interval == timedelta(minutes=30)
    assert make_source().interval == timedelta(minutes=60)
    assert Source(interval_minutes=5).interval == timedelta(minutes=15)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        make_source(interval_minutes=5)


def test_per_source_user_agent_is_sent(feed_server, make_source):
    source = make_source(
        feed_server.serve("/rss", rss(OFFER)), user_agent="DeskBot/2 (+https://org.example/bot)"
    )
    source_fetch(source=source)
    assert feed_server.hits("/rss")[0]["user-agent"] == "DeskBot/2 (+https://org.example/bot)"


def test_private_addresses_are_refused_unless_allowed(feed_server, make_source, settings):
    settings.SOCIALDESK_FETCH_ALLOW_PRIVATE = []
    source = make_source(feed_server.serve("/rss", rss(OFFER)))

    report = source_fetch(source=source)

    assert report.error_kind == FetchErrorKind.BLOCKED_ADDRESS
    assert feed_server.requests == []
    source.refresh_from_db()
    with override("en"):
        assert source.error_message.startswith("The address leads to a private or reserved network")


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (
            b"<html><head><title>Inicio</title></head><body>Bienvenida</body></html>",
            "text/html",
            "not_a_feed",
        ),
        (b"\x00\x01\x02\xff\xfe garbage", "application/octet-stream", "unreadable"),
        (b"", "application/rss+xml", "empty"),
    ],
)
def test_bad_content_is_an_error_on_that_source_only(feed_server, make_source, body, content_type, kind):
    bad = make_source(feed_server.serve("/bad", body, content_type=content_type))
    good = make_source(feed_server.serve("/good", rss(OFFER)))

    bad_report = source_fetch(source=bad)
    good_report = source_fetch(source=good)

    assert bad_report.status == FetchStatus.ERROR
    assert bad_report.error_kind == kind
    assert good_report.status == FetchStatus.OK
    bad.refresh_from_db()
    assert bad.claimed_until is None
    assert bad.body_hash == ""  # the broken body is read again next time: the error stays visible


def test_a_bug_while_storing_is_recorded_on_the_source_and_releases_it(feed_server, make_source, monkeypatch):
    source = make_source(feed_server.serve("/rss", rss(OFFER)))
    sources_claim(source_ids=[source.pk])

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "items_store", broken)
    report = source_fetch(source=source)

    source.refresh_from_db()
    assert report.error_kind == FetchErrorKind.INTERNAL
    assert source.claimed_until is None
    assert source.consecutive_errors == 1
    assert not Item.objects.exists()


def test_dates_without_zone_are_read_in_the_source_time_zone(feed_server, make_source):
    item = rss_item("n1", "Jornada", "https://example.org/n1", "", "2026-03-03T10:00:00")
    source = make_source(feed_server.serve("/rss", rss(item)), time_zone="America/Mexico_City")

    source_fetch(source=source)

    published = Item.objects.get().published_at
    assert published.isoformat() == "2026-03-03T16:00:00+00:00"


def test_excluded_items_are_hidden_with_the_word(feed_server, make_source):
    item = rss_item("p1", "El líder de la oposición pide más plazas", "https://news.example.org/p1")
    source = make_source(feed_server.serve("/rss", rss(item)))

    source_fetch(source=source)

    stored = Item.objects.get()
    assert stored.hidden_reason == HiddenReason.EXCLUDED
    assert stored.hidden_detail == "líder de la oposición"
    assert "líder de la oposición" in stored.hidden_message


def test_the_worker_reads_its_source_with_every_field_as_the_orm_does(make_source):
    source = make_source(url="https://example.org/feed", etag='"v1"', muted=False, consecutive_errors=2)
    Source.objects.filter(pk=source.pk).update(claimed_until=timezone.now(), last_fetch_at=timezone.now())
    read = _source_by_id(source.pk)
    expected = Source.objects.get(pk=source.pk)
    for model_field in Source._meta.concrete_fields:
        assert getattr(read, model_field.attname) == getattr(expected, model_field.attname), model_field.name
    assert read.claimed_until.tzinfo is not None  # aware on SQLite too, where the backend converts it
    assert _source_by_id(source.pk + 1000) is None
