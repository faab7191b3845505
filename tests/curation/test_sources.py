"""Creating, changing, muting and deleting sources; the "test this rule" button."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from curation.models import HiddenReason, Item, Source, SourceKind
from curation.parsing import ListingMap, PageRule
from curation.services import (
    source_create,
    source_delete,
    source_fetch_soon,
    source_mute,
    source_rule_test,
    source_unmute,
    source_update,
    user_agent_for,
)


def test_a_new_source_is_due_at_once_and_knows_its_host(db):
    source = source_create(name=" Labora ", url=" https://Labora.GVA.es/rss ")
    assert (source.name, source.url, source.host) == ("Labora", "https://Labora.GVA.es/rss", "labora.gva.es")
    assert source.next_fetch_at <= timezone.now()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://example.org/feed"}, "url"),
        ({"url": "https://example.org/", "kind": SourceKind.PAGE}, "item_selector"),
        ({"url": "https://example.org/x.json", "kind": SourceKind.JSON_LISTING}, "title_field"),
        ({"url": "https://example.org/", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"url": "https://example.org/", "interval_minutes": 10}, "interval_minutes"),
    ],
)
def test_invalid_sources_are_refused_with_the_field_at_fault(db, fields, field):
    with pytest.raises(ValidationError) as caught:
        source_create(name="x", **fields)
    assert field in caught.value.message_dict


def test_changing_the_address_forgets_the_validators_and_fetches_again(make_source):
    source = make_source("https://a.example.org/rss")
    Source.objects.filter(pk=source.pk).update(
        etag='"1"', body_hash="abc", next_fetch_at=timezone.now() + timedelta(hours=1)
    )
    source.refresh_from_db()
    source_update(source=source, name="Renamed")
    assert source.etag == '"1"'
    source_update(source=source, url="https://b.example.org/rss")
    source.refresh_from_db()
    assert (source.etag, source.body_hash, source.host) == ("", "", "b.example.org")
    assert source.next_fetch_at <= timezone.now()


def test_mute_unmute_and_fetch_soon(make_source):
    source = make_source()
    source_mute(source=source, reason="Duplicated elsewhere")
    assert source.muted and source.muted_reason == "Duplicated elsewhere"
    Source.objects.filter(pk=source.pk).update(consecutive_errors=4)
    source_unmute(source=source)
    assert not source.muted and source.consecutive_errors == 0
    Source.objects.filter(pk=source.pk).update(next_fetch_at=timezone.now() + timedelta(hours=1))
    assert source_fetch_soon(source=source).next_fetch_at <= timezone.now()


def test_deleting_a_source_promotes_a_duplicate_of_its_items(make_source):
    gone, kept_a, kept_b = make_source(), make_source(), make_source()
    original = Item.objects.create(source=gone, guid="o", guid_hash="o", title="O")
    first = Item.objects.create(
        source=kept_a,
        guid="a",
        guid_hash="a",
        title="A",
        duplicate_of=original,
        hidden_reason=HiddenReason.DUPLICATE,
    )
    second = Item.objects.create(
        source=kept_b,
        guid="b",
        guid_hash="b",
        title="B",
        duplicate_of=original,
        hidden_reason=HiddenReason.DUPLICATE,
    )

    source_delete(source=gone)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.duplicate_of, first.hidden_reason) == (None, "")
    assert second.duplicate_of == first and second.hidden_reason == HiddenReason.DUPLICATE


def test_the_user_agent_is_honest_unless_the_source_overrides_it(make_source, settings):
    settings.SOCIALDESK_CONTACT_URL = "https://org.example/contacto"
    assert "+https://org.example/contacto" in user_agent_for(make_source())
    assert user_agent_for(make_source(user_agent=" Bot/1 ")) == "Bot/1"


PAGE = (
    "<html><body><ul><li><a href='/o/1'>Oferta 1</a> <span>3 de març de 2026</span></li></ul></body></html>"
)


def test_a_rule_is_tested_before_saving_and_nothing_is_stored(feed_server, allow_loopback, db):
    url = feed_server.serve("/page", PAGE.encode(), content_type="text/html; charset=utf-8")

    result = source_rule_test(
        url=url, kind=SourceKind.PAGE, rule=PageRule(syntax="css", item="li", title="a", date="span")
    )

    assert result.error == ""
    assert [(e.title, e.link, e.published_at.day) for e in result.entries] == [
        ("Oferta 1", f"http://127.0.0.1:{feed_server.port}/o/1", 3)
    ]
    assert not Source.objects.exists() and not Item.objects.exists()


def test_a_failing_rule_test_says_why_in_plain_words(feed_server, allow_loopback, db):
    url = feed_server.serve("/page", PAGE.encode(), content_type="text/html")
    with override("en"):
        nothing = source_rule_test(url=url, kind=SourceKind.PAGE, rule=PageRule(syntax="css", item="table"))
    assert nothing.error.startswith("The rule found no items on the page")
    missing = source_rule_test(
        url=feed_server.url("/missing"), kind=SourceKind.CSV_LISTING, mapping=ListingMap(title="t")
    )
    assert "HTTP 404" in missing.error
    assert source_rule_test(url=url, kind=SourceKind.PAGE, time_zone="Nowhere/Land").error


def test_a_rule_test_speaks_the_language_of_the_person_trying_it(feed_server, allow_loopback, db):
    page = "<ul><li><a href='/o/1'>Oferta 1</a> <span>pronto</span></li><li><a></a></li></ul>"
    url = feed_server.serve("/page", page.encode(), content_type="text/html; charset=utf-8")
    rule = PageRule(syntax="css", item="li", title="a", date="span")

    with override("es"):
        spanish = source_rule_test(url=url, kind=SourceKind.PAGE, rule=rule)
        invalid = source_rule_test(
            url=url, kind=SourceKind.PAGE, rule=PageRule(syntax="css", item="li", title="a[")
        )
    with override("ca"):
        valencian = source_rule_test(url=url, kind=SourceKind.PAGE, rule=rule)

    assert spanish.warnings == [
        "No se ha podido leer la fecha «pronto».",
        "Se ha omitido un elemento sin título ni enlace.",
    ]
    assert valencian.warnings == [
        "No s'ha pogut llegir la data «pronto».",
        "S'ha omés un element sense títol ni enllaç.",
    ]
    assert invalid.error.startswith(
        "La regla de esta página no es válida. (El selector del título «a[» no es válido: "
    )


def test_deleting_a_source_is_recorded_in_the_audit_log(make_source, manager):
    from socialdesk.models import AuditEvent
    from socialdesk.models.audit import AuditAction

    gone = make_source(name="Boletín que ya no existe")
    source_delete(source=gone, actor=manager)

    event = AuditEvent.objects.get(action=AuditAction.DELETED)
    assert event.actor == manager
    assert event.target_type == "curation.Source"
    assert "Boletín que ya no existe" in event.target_label
    assert event.details["url"] == gone.url
