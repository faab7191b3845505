"""The sources pages: health, adding and editing the three kinds, "test this rule", feed discovery,
mute, fetch now and delete. Fetches go to a real HTTP server on loopback (tests/curation/conftest.py)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from curation import views
from curation.models import FetchErrorKind, FetchStatus, Item, Source, SourceKind
from curation.parsing import ListingMap, PageRule
from curation.services import RuleTestResult
from lib.feeds import FeedEntry
from lib.messages import Message
from tests.curation.items import make_item

HTMX = {"HTTP_HX_REQUEST": "true"}

PAGE = """<html><head><title>Ofertas</title></head><body>
<ul class="offers">
  <li><a href="/ofertas/1">Auxiliar <b>administrativo</b></a><span class="date">3 de marzo de 2026</span></li>
  <li><a href="/ofertas/2">Curso de soldadura</a><span class="date">4 de març de 2026</span></li>
  <li><a href="/ofertas/3">Sueldo &lt; 1000 &amp; más</a></li>
</ul></body></html>"""


def _form(**values) -> dict:
    data = {
        "name": "LABORA ofertas",
        "kind": SourceKind.FEED,
        "url": "https://labora.example.es/rss",
        "time_zone": "Europe/Madrid",
        "selector_syntax": "css",
    }
    data.update(values)
    return data


def _page_rule(url: str, **values) -> dict:
    return _form(
        kind=SourceKind.PAGE,
        url=url,
        item_selector="ul.offers li",
        title_selector="a",
        link_selector="a",
        date_selector=".date",
        **values,
    )


# --- Health -------------------------------------------------------------------------------------


def test_the_health_page_puts_problems_first_in_plain_words(supervisor_client, make_source):
    now = timezone.now()
    healthy = make_source(name="A sana")
    failing = make_source(name="B rota")
    muted = make_source(name="C callada")
    silent = make_source(name="D silenciosa")
    undated = Message("The deadline “%(date)s” could not be read.", {"date": "pronto"}).as_json()
    Source.objects.filter(pk=healthy.pk).update(
        last_status=FetchStatus.OK,
        last_success_at=now,
        last_new_item_at=now,
        last_fetch_at=now,
        last_warnings={"count": 7, "first": [undated] * 5},
    )
    Source.objects.filter(pk=failing.pk).update(
        last_status=FetchStatus.ERROR,
        last_error_kind=FetchErrorKind.TIMEOUT,
        last_error_detail="labora.example.es: 15 s",
        last_fetch_at=now,
    )
    Source.objects.filter(pk=muted.pk).update(muted=True, muted_reason="Duplica el canal de LABORA")
    Source.objects.filter(pk=silent.pk).update(
        last_status=FetchStatus.NOT_MODIFIED,
        last_success_at=now,
        last_new_item_at=now - timedelta(days=30),
    )
    for n in range(3):
        make_item(healthy, f"h{n}")

    response = supervisor_client.get(reverse("curation:sources"))
    page = response.content.decode()

    order = [m.group(1) for m in re.finditer(r'<tr id="source-(\d+)"', page)]
    assert order == [str(s.pk) for s in (failing, muted, silent, healthy)]
    assert "El sitio web ha tardado demasiado en responder. (labora.example.es: 15 s)" in page
    assert "Duplica el canal de LABORA" in page
    row = re.search(rf'<tr id="source-{healthy.pk}".*?</tr>', page, re.S).group(0)
    assert "<td>3</td>" in row  # items in the last 7 days
    assert "Leída" in row
    assert "<summary>7 avisos en la última lectura</summary>" in row
    assert row.count("<li>No se ha podido leer la fecha límite «pronto».</li>") == 5
    assert "muestra el resto" in row
    assert 'class="needs-attention"' in re.search(rf'<tr id="source-{silent.pk}"[^>]*>', page).group(0)
    assert 'method="post"' not in page.split('<main id="main"')[1]  # the supervisor only reads


def test_the_health_page_takes_the_same_queries_for_3_or_30_sources(
    manager_client, make_source, django_assert_max_num_queries
):
    counted = []
    for sources in (3, 27):
        for _ in range(sources):
            make_item(make_source(), f"i{Item.objects.count()}")
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(5):
            manager_client.get(reverse("curation:sources"))
        counted.append(len(queries))
    assert counted[0] == counted[1]


# --- Adding and editing -------------------------------------------------------------------------


def test_the_manager_adds_a_feed(manager_client):
    response = manager_client.post(reverse("curation:source_new"), _form(interval_minutes="30"))

    source = Source.objects.get()
    assert response["Location"] == f"{reverse('curation:sources')}#source-{source.pk}"
    assert (source.name, source.kind, source.url, source.interval_minutes) == (
        "LABORA ofertas",
        SourceKind.FEED,
        "https://labora.example.es/rss",
        30,
    )
    assert source.next_fetch_at <= timezone.now()


def test_a_page_source_keeps_its_rule_and_a_listing_its_field_mapping(manager_client):
    manager_client.post(reverse("curation:source_new"), _page_rule("https://e.org/ofertas", name="Página"))
    manager_client.post(
        reverse("curation:source_new"),
        _form(
            name="Listado",
            kind=SourceKind.JSON_LISTING,
            url="https://e.org/ofertas.json",
            items_path="data.offers",
            title_field="puesto",
            link_field="url",
            deadline_field="plazo",
            place_field="municipio",
        ),
    )

    page = Source.objects.get(name="Página")
    assert page.page_rule() == PageRule(syntax="css", item="ul.offers li", title="a", link="a", date=".date")
    listing = Source.objects.get(name="Listado")
    assert listing.listing_map() == ListingMap(
        title="puesto", items_path="data.offers", link="url", deadline="plazo", place="municipio"
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": SourceKind.PAGE}, "item_selector"),
        ({"kind": SourceKind.CSV_LISTING}, "title_field"),
        ({"url": "ftp://e.org/feed"}, "url"),
        ({"interval_minutes": "5"}, "interval_minutes"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ],
)
def test_an_invalid_source_is_not_saved_and_the_field_says_why(manager_client, values, field):
    response = manager_client.post(reverse("curation:source_new"), _form(**values))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Source.objects.exists()


def test_the_form_groups_fields_by_kind_for_the_script_to_hide(manager_client):
    page = manager_client.get(reverse("curation:source_new")).content.decode()
    assert '<fieldset data-kinds="page">' in page
    assert '<fieldset data-kinds="json_listing csv_listing">' in page
    assert re.search(r'<label for="id_item_selector">', page)
    assert '<form method="post" action="/curation/sources/new/" class="source-form" data-source-form>' in page


def test_a_new_source_starts_in_the_desks_time_zone(manager_client, make_source):
    page = manager_client.get(reverse("curation:source_new")).content.decode()
    assert re.search(r'<option value="Europe/Madrid"[^>]*selected', page)
    assert re.search(r'<label for="id_time_zone">[A-ZÁÉÍÓÚ]', page)  # capitalized, like every other label
    # An existing source shows its own zone.
    source = make_source(time_zone="America/Bogota")
    page = manager_client.get(reverse("curation:source_edit", args=[source.pk])).content.decode()
    assert re.search(r'<option value="America/Bogota"[^>]*selected', page)
    assert not re.search(r'<option value="Europe/Madrid"[^>]*selected', page)


def test_editing_the_address_makes_the_source_fetched_afresh(manager_client, make_source):
    source = make_source(name="Old", url="https://old.example.org/rss")
    later = timezone.now() + timedelta(hours=3)
    Source.objects.filter(pk=source.pk).update(etag='"v1"', body_hash="abc", next_fetch_at=later)

    manager_client.post(
        reverse("curation:source_edit", args=[source.pk]), _form(name="Renamed", url=source.url)
    )
    source.refresh_from_db()
    assert (source.name, source.etag, source.next_fetch_at) == ("Renamed", '"v1"', later)

    manager_client.post(
        reverse("curation:source_edit", args=[source.pk]),
        _form(name="Renamed", url="https://new.example.org/rss"),
    )
    source.refresh_from_db()
    assert source.url == "https://new.example.org/rss"
    assert source.etag == "" and source.body_hash == ""
    assert source.next_fetch_at <= timezone.now()


def test_the_edit_page_shows_the_stored_values(manager_client, make_source):
    source = make_source(name="SEPE", url="https://sepe.example.es/rss", category="Empleo / Oficial")
    page = manager_client.get(reverse("curation:source_edit", args=[source.pk])).content.decode()
    assert 'value="https://sepe.example.es/rss"' in page
    assert 'value="Empleo / Oficial"' in page
    assert f'action="{reverse("curation:source_edit", args=[source.pk])}"' in page


def test_a_missing_source_is_404(manager_client):
    assert manager_client.get(reverse("curation:source_edit", args=[424242])).status_code == 404


# --- Test this rule -----------------------------------------------------------------------------


@pytest.mark.usefixtures("allow_loopback")
def test_testing_a_rule_shows_what_it_extracts_and_saves_nothing(manager_client, feed_server):
    url = feed_server.serve("/ofertas", PAGE.encode(), content_type="text/html; charset=utf-8")

    response = manager_client.post(
        reverse("curation:source_new"), {**_page_rule(url), "name": "", "test_rule": "1"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Auxiliar administrativo" in body
    assert (
        f'<a href="{feed_server.url("/ofertas/2")}" rel="noopener noreferrer">Curso de soldadura</a>' in body
    )
    assert '<time datetime="2026-03-04T00:00:00+01:00">' in body  # a Valencian month name, Madrid time
    assert "Sueldo &lt; 1000 &amp; más" in body  # feed text is escaped
    assert not Source.objects.exists()
    assert len(feed_server.hits("/ofertas")) == 1


@pytest.mark.usefixtures("allow_loopback")
def test_without_javascript_the_rule_test_shows_in_the_form_page_with_the_values_kept(
    manager_client, feed_server
):
    url = feed_server.serve("/ofertas", PAGE.encode(), content_type="text/html")

    response = manager_client.post(reverse("curation:source_new"), {**_page_rule(url), "test_rule": "1"})

    page = response.content.decode()
    assert "<html" in page
    assert 'value="ul.offers li"' in page
    assert "Curso de soldadura" in page
    assert not Source.objects.exists()


@pytest.mark.usefixtures("allow_loopback")
def test_a_rule_test_that_fails_says_why_in_plain_words(manager_client, feed_server):
    url = feed_server.serve("/gone", b"no", status=404)
    page = manager_client.post(
        reverse("curation:source_new"), {**_page_rule(url), "test_rule": "1"}, **HTMX
    ).content.decode()
    assert "El sitio web ha respondido con un error. (HTTP 404 Not Found)" in page


def test_a_rule_test_with_an_unusable_field_asks_to_correct_it_first(manager_client, monkeypatch):
    monkeypatch.setattr(views, "source_rule_test", lambda **kwargs: pytest.fail("must not fetch"))
    page = manager_client.post(
        reverse("curation:source_new"), {**_page_rule("not an address"), "test_rule": "1"}, **HTMX
    ).content.decode()
    assert re.search(r"<li>Dirección: .+</li>", page)


def test_the_rule_test_gets_the_unsaved_values_of_an_edited_source(manager_client, make_source, monkeypatch):
    source = make_source(name="Página", kind=SourceKind.PAGE, url="https://e.org/a", item_selector="li")
    calls = []

    def fake_rule_test(**kwargs):
        calls.append(kwargs)
        return RuleTestResult(
            entries=[FeedEntry(guid="1", link="https://e.org/1", title="Oferta 1", summary_html="")],
            warnings=["The date 'ayer' could not be read."],
        )

    monkeypatch.setattr(views, "source_rule_test", fake_rule_test)
    page = manager_client.post(
        reverse("curation:source_edit", args=[source.pk]),
        {**_page_rule("https://e.org/b", time_zone="Atlantic/Canary", user_agent="Bot/2"), "test_rule": "1"},
        **HTMX,
    ).content.decode()

    assert calls == [
        {
            "url": "https://e.org/b",
            "kind": SourceKind.PAGE,
            "rule": PageRule(syntax="css", item="ul.offers li", title="a", link="a", date=".date"),
            "mapping": ListingMap(title=""),
            "time_zone": "Atlantic/Canary",
            "user_agent": "Bot/2",
        }
    ]
    assert "Oferta 1" in page and "The date &#x27;ayer&#x27; could not be read." in page
    source.refresh_from_db()
    assert (source.url, source.item_selector) == ("https://e.org/a", "li")


# --- Feed discovery -----------------------------------------------------------------------------


@pytest.mark.usefixtures("allow_loopback")
def test_discovery_lists_the_feeds_of_a_home_page_to_add(manager_client, feed_server, make_source):
    home = (
        '<html><head><link rel="alternate" type="application/rss+xml" title="Ofertas &amp; cursos" href="/rss">'
        '<link rel="alternate" type="application/atom+xml" title="Noticias" href="/atom"></head></html>'
    )
    url = feed_server.serve("/", home.encode(), content_type="text/html")
    make_source(name="Ya", url=feed_server.url("/atom"))

    response = manager_client.post(reverse("curation:source_discover"), {"site": url}, **HTMX)

    body = response.content.decode()
    assert "<html" not in body
    assert "Ofertas &amp; cursos" in body
    add = reverse("curation:source_new")
    assert (
        f'href="{add}?kind=feed&amp;url=http%3A%2F%2F127.0.0.1%3A{feed_server.port}%2Frss'
        f'&amp;name=Ofertas%20%26%20cursos&amp;site_url=http%3A%2F%2F127.0.0.1%3A{feed_server.port}%2F"'
    ) in body
    assert body.count(f"{add}?") == 1  # the Atom feed is already a source
    assert "Ya es una fuente" in body

    prefilled = manager_client.get(
        add, {"kind": "feed", "url": feed_server.url("/rss"), "name": "Ofertas & cursos"}
    ).content.decode()
    assert f'value="{feed_server.url("/rss")}"' in prefilled and 'value="Ofertas &amp; cursos"' in prefilled


@pytest.mark.usefixtures("allow_loopback")
def test_discovery_without_javascript_and_its_errors(manager_client, feed_server):
    url = feed_server.serve("/broken", b"oops", status=500)
    page = manager_client.post(reverse("curation:source_discover"), {"site": url}).content.decode()
    assert "<html" in page
    assert "El sitio web ha respondido con un error. (HTTP 500)" in page
    assert not Source.objects.exists()


def test_discovery_never_reaches_private_addresses(manager_client):
    page = manager_client.post(
        reverse("curation:source_discover"), {"site": "http://127.0.0.1:9/"}, **HTMX
    ).content.decode()
    assert escape(str(FetchErrorKind.BLOCKED_ADDRESS.label)) in page
    assert "(127.0.0.1 es una dirección privada o reservada.)" in page


# --- Mute, fetch now, delete ----------------------------------------------------------------------


def test_mute_needs_a_reason_and_unmute_listens_again(manager_client, make_source):
    source = make_source(name="Ruidosa")
    back = f"{reverse('curation:sources')}#source-{source.pk}"

    response = manager_client.post(reverse("curation:source_mute", args=[source.pk]), {"reason": " "})
    source.refresh_from_db()
    assert response["Location"] == back and not source.muted

    manager_client.post(reverse("curation:source_mute", args=[source.pk]), {"reason": "Publica anuncios"})
    source.refresh_from_db()
    assert source.muted and source.muted_reason == "Publica anuncios"
    page = manager_client.get(reverse("curation:sources")).content.decode()
    assert f'action="{reverse("curation:source_unmute", args=[source.pk])}"' in page

    manager_client.post(reverse("curation:source_unmute", args=[source.pk]))
    source.refresh_from_db()
    assert not source.muted and source.muted_reason == ""


def test_fetch_now_makes_the_source_due(manager_client, make_source):
    source = make_source()
    Source.objects.filter(pk=source.pk).update(next_fetch_at=timezone.now() + timedelta(hours=5))
    response = manager_client.post(reverse("curation:source_fetch", args=[source.pk]), follow=True)
    source.refresh_from_db()
    assert source.next_fetch_at <= timezone.now()
    assert 'class="message message-success"' in response.content.decode()


def test_fetch_now_on_a_muted_source_says_to_unmute_it_and_changes_nothing(manager_client, make_source):
    source = make_source(name="Callada")
    later = timezone.now() + timedelta(hours=5)
    Source.objects.filter(pk=source.pk).update(next_fetch_at=later, muted=True, muted_reason="Anuncios")
    page = manager_client.get(reverse("curation:sources")).content.decode()
    assert f'action="{reverse("curation:source_fetch", args=[source.pk])}"' not in page

    response = manager_client.post(reverse("curation:source_fetch", args=[source.pk]), follow=True)
    source.refresh_from_db()
    assert source.next_fetch_at == later and source.muted
    page = response.content.decode()
    assert 'class="message message-error"' in page
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert escape(gettext("“%(name)s” is muted: unmute it to read it again.") % {"name": "Callada"}) in page


def test_delete_asks_first_then_deletes_the_source_and_its_items(manager_client, make_source):
    source = make_source(name="Vieja")
    make_item(source, "a")
    make_item(source, "b")

    confirm = manager_client.get(reverse("curation:source_delete", args=[source.pk]))
    assert confirm.status_code == 200
    assert confirm.context["items"] == 2
    assert Source.objects.filter(pk=source.pk).exists()

    response = manager_client.post(reverse("curation:source_delete", args=[source.pk]))
    assert response["Location"] == reverse("curation:sources")
    assert not Source.objects.exists() and not Item.objects.exists()
