"""The reading queue, hidden items, an item's page and the actions on items, as each role sees them;
plus who may open or post to every curation page."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from curation.models import HiddenReason, Item, ItemState, OpmlImport, Topic
from scheduling.models import Post
from tests.curation.items import make_item

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def source(make_source):
    return make_source(name="LABORA Ofertas")


@pytest.fixture
def item(source):
    return make_item(source, "offer-1", title="Oferta de empleo: auxiliar", score=5)


# --- Who may do what ----------------------------------------------------------------------------

READ_PAGES = [
    ("curation:queue", None),
    ("curation:hidden", None),
    ("curation:item", "item"),
    ("curation:sources", None),
    ("curation:opml", None),
    ("curation:opml_import", "opml_import"),
    ("curation:opml_export", None),
    ("scheduling:drafts", None),
]
FORM_PAGES = [  # pages whose only purpose is a change: manager only, also to look at
    ("curation:source_new", None),
    ("curation:source_edit", "source"),
    ("curation:source_delete", "source"),
]
ACTIONS = [
    ("curation:item_shortlist", "item"),
    ("curation:item_discard", "item"),
    ("curation:item_restore", "item"),
    ("curation:item_compose", "item"),
    ("curation:items_bulk", None),
    ("curation:source_new", None),
    ("curation:source_edit", "source"),
    ("curation:source_discover", None),
    ("curation:source_mute", "source"),
    ("curation:source_unmute", "source"),
    ("curation:source_fetch", "source"),
    ("curation:source_delete", "source"),
    ("curation:opml_upload", None),
]


@pytest.fixture
def url_of(source, item):
    opml_import = OpmlImport.objects.create(document="<opml/>", file_name="feeds.opml")
    objects = {"item": item.pk, "source": source.pk, "opml_import": opml_import.pk}
    keys = {"item": "item_id", "source": "source_id", "opml_import": "import_id"}

    def url(name, needs):
        return reverse(name, kwargs={keys[needs]: objects[needs]} if needs else None)

    return url


def _state_of_the_desk():
    return (
        list(Item.objects.order_by("pk").values_list("state", flat=True)),
        list(Item.objects.values_list("source__muted", "source__next_fetch_at")),
        Post.objects.count(),
        OpmlImport.objects.count(),
    )


@pytest.mark.parametrize(("name", "needs"), READ_PAGES + FORM_PAGES + ACTIONS)
def test_anonymous_visitors_are_sent_to_sign_in(client, url_of, name, needs):
    for response in (client.get(url_of(name, needs)), client.post(url_of(name, needs))):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "needs"), READ_PAGES + FORM_PAGES + ACTIONS)
@pytest.mark.parametrize("who", ["outsider", "administrator"])
def test_people_without_the_desk_get_403(client, request, url_of, name, needs, who):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url_of(name, needs)).status_code == 403
    assert client.post(url_of(name, needs)).status_code == 403


@pytest.mark.parametrize(("name", "needs"), READ_PAGES)
def test_the_supervisor_reads_every_page(supervisor_client, url_of, name, needs):
    assert supervisor_client.get(url_of(name, needs)).status_code == 200


@pytest.mark.parametrize(("name", "needs"), FORM_PAGES + ACTIONS)
def test_the_supervisor_changes_nothing(supervisor_client, url_of, name, needs):
    before = _state_of_the_desk()
    data = {"items": [Item.objects.get().pk], "action": "discard", "reason": "x", "site": "https://e.org/"}
    assert supervisor_client.post(url_of(name, needs), data).status_code == 403
    assert _state_of_the_desk() == before
    if (name, needs) in FORM_PAGES:
        assert supervisor_client.get(url_of(name, needs)).status_code == 403


@pytest.mark.parametrize(("name", "needs"), READ_PAGES + FORM_PAGES)
def test_the_manager_opens_every_page(manager_client, url_of, name, needs):
    assert manager_client.get(url_of(name, needs)).status_code == 200


def test_the_navigation_leads_to_the_queue_and_marks_the_section(manager_client, source):
    queue = manager_client.get(reverse("curation:queue")).content.decode()
    assert f'<a href="{reverse("curation:queue")}" aria-current="page">Curación de contenidos</a>' in queue
    sources = manager_client.get(reverse("curation:sources")).content.decode()
    assert f'<a href="{reverse("curation:queue")}" aria-current="true">Curación de contenidos</a>' in sources


# --- Reading queue ------------------------------------------------------------------------------


def test_a_queue_row_shows_what_the_manager_needs_to_decide(manager_client, make_source):
    labora, sepe = make_source(name="LABORA"), make_source(name="SEPE")
    topic = Topic.objects.get(slug="employment")
    item = make_item(
        labora,
        "offer",
        title="Oferta de empleo: auxiliar administrativo",
        canonical_url="https://empleo.example.org/ofertas/1",
        url="https://empleo.example.org/ofertas/1?utm_source=rss",
        excerpt="Plazo hasta el viernes.",
        published_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        deadline=timezone.now() + timedelta(days=3),
        place="València",
        topic=topic,
        score=9,
        score_reasons=[
            {"word": "oferta de empleo", "weight": 5, "topic": "employment"},
            {"word": "auxiliar", "weight": 4, "topic": "employment"},
        ],
    )
    make_item(sepe, "copy", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=item)

    page = manager_client.get(reverse("curation:queue")).content.decode()

    row = re.search(rf'<li class="queue-item[^"]*" id="item-{item.pk}".*?</li>', page, re.S).group(0)
    assert (
        '<a href="https://empleo.example.org/ofertas/1" rel="noopener noreferrer" data-open>'
        "Oferta de empleo: auxiliar administrativo</a>" in row
    )
    assert " target=" not in re.search(r"<a [^>]*data-open>", row).group(0)  # opens normally
    assert "LABORA" in row
    assert re.search(r"también en:\s*SEPE", row)
    assert '<time datetime="2026-03-03T10:00:00+01:00">' in row  # shown in Europe/Madrid
    assert "10:00" in row
    assert "Puntuación 9" in row
    assert "oferta de empleo (5)" in row and "auxiliar (4)" in row
    assert topic.name in row
    assert "Nuevo" in row
    assert "València" in row
    assert "Plazo hasta el viernes." in row


def test_the_queue_is_ranked_and_filtered_by_topic_source_and_state(manager_client, make_source):
    labora, sepe = make_source(name="LABORA"), make_source(name="SEPE")
    training = Topic.objects.get(slug="training")
    make_item(labora, "weak", score=1)
    make_item(labora, "strong", score=8, topic=training)
    make_item(sepe, "sepe", score=4, topic=training)
    make_item(sepe, "kept", state=ItemState.SHORTLISTED)

    def titles(**params):
        response = manager_client.get(reverse("curation:queue"), params)
        return [item.title for item in response.context["page"]]

    assert titles() == ["strong", "sepe", "weak"]
    assert titles(topic=training.pk) == ["strong", "sepe"]
    assert titles(source=labora.pk) == ["strong", "weak"]
    assert titles(source=sepe.pk, topic=training.pk) == ["sepe"]
    assert titles(state=ItemState.SHORTLISTED) == ["kept"]
    assert titles(topic="999999", state="nonsense") == ["strong", "sepe", "weak"]  # bad values are ignored


def test_the_filters_are_a_labelled_get_form(manager_client, source, item):
    page = manager_client.get(reverse("curation:queue")).content.decode()
    form = re.search(r'<form class="filters" method="get".*?</form>', page, re.S).group(0)
    for field in ("state", "topic", "source"):
        assert f'<label for="id_{field}">' in form
        assert f'name="{field}"' in form
    assert 'hx-get="/curation/"' in form and 'hx-target="#queue"' in form


def test_an_htmx_filter_gets_only_the_queue_fragment(manager_client, source, item):
    full = manager_client.get(reverse("curation:queue"))
    fragment = manager_client.get(reverse("curation:queue"), {"state": "new"}, **HTMX)

    assert "<html" in full.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and '<nav class="nav-wrap"' not in body
    assert body.strip().startswith('<div id="queue"')
    assert f'id="item-{item.pk}"' in body
    assert [t.name for t in full.templates].count("curation/_queue.html") == 1
    assert fragment.templates[0].name == "curation/_queue.html"


def _fill_queue(make_source, items: int) -> None:
    sources = [make_source(name=f"Fuente {n}") for n in range(3)]
    topics = list(Topic.objects.all()[:3])
    for n in range(items):
        original = make_item(sources[n % 3], f"i{n}", score=n % 7, topic=topics[n % 3])
        make_item(sources[(n + 1) % 3], f"d{n}", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=original)


@pytest.mark.parametrize("who", ["manager_client", "supervisor_client"])
def test_the_queue_takes_the_same_few_queries_for_5_or_50_items(
    request, make_source, django_assert_max_num_queries, who
):
    client = request.getfixturevalue(who)
    counted = []
    for items in (5, 45):  # 5, then 50 in all
        _fill_queue(make_source, items)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(9):
            response = client.get(reverse("curation:queue"))
        assert len(response.context["page"].object_list) == Item.objects.filter(hidden_reason="").count()
        counted.append(len(queries))
    assert counted[0] == counted[1]


def test_pages_of_the_queue_keep_the_filters(manager_client, source):
    topic = Topic.objects.get(slug="employment")
    for n in range(60):
        make_item(source, f"i{n}", score=n % 5, topic=topic)

    first = manager_client.get(reverse("curation:queue"), {"topic": topic.pk}).content.decode()
    second = manager_client.get(reverse("curation:queue"), {"topic": topic.pk, "page": 2})

    assert f'href="?topic={topic.pk}&amp;page=2" rel="next"' in first
    assert len(second.context["page"].object_list) == 10


def test_feed_text_is_escaped_everywhere(manager_client, make_source):
    source = make_source(name="<b>Fuente</b>")
    item = make_item(
        source,
        "x",
        title='<script>alert("t")</script>',
        excerpt="<img src=x onerror=alert(1)>",
        place="<i>Alzira</i>",
        deadline=timezone.now() + timedelta(days=1),
        score_reasons=[{"word": "<u>paro</u>", "weight": 2, "topic": "employment"}],
    )
    for url in (reverse("curation:queue"), reverse("curation:item", args=[item.pk])):
        page = manager_client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in page
        assert "&lt;b&gt;Fuente&lt;/b&gt;" in page and "<b>Fuente</b>" not in page
        assert "&lt;i&gt;Alzira&lt;/i&gt;" in page and "<i>Alzira</i>" not in page
        assert "&lt;u&gt;paro&lt;/u&gt;" in page and "<u>paro</u>" not in page
    queue = manager_client.get(reverse("curation:queue")).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in queue and "<img src=x" not in queue


def test_the_supervisor_sees_the_queue_without_any_control(supervisor_client, item):
    page = supervisor_client.get(reverse("curation:queue")).content.decode()
    assert item.title in page
    assert 'method="post"' not in page.split('<main id="main"')[1]
    assert 'type="checkbox"' not in page


# --- Actions on items ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "label"),
    [
        ("curation:item_shortlist", ItemState.SHORTLISTED, "Preseleccionado"),
        ("curation:item_discard", ItemState.DISCARDED, "Descartado"),
    ],
)
def test_an_action_without_javascript_comes_back_to_the_same_queue_page(
    manager_client, manager, item, action, state, label
):
    back = f"{reverse('curation:queue')}?source={item.source_id}"
    response = manager_client.post(reverse(action, args=[item.pk]), {"next": back}, follow=True)

    assert response.redirect_chain == [(back, 302)]
    item.refresh_from_db()
    assert item.state == state
    assert item.state_changed_by == manager
    assert item.title in response.content.decode()  # the message names the item
    assert 'class="message message-success"' in response.content.decode()


def test_an_htmx_action_gets_the_row_back_with_its_new_state(manager_client, item):
    response = manager_client.post(
        reverse("curation:item_shortlist", args=[item.pk]), {"next": "/curation/?state=new"}, **HTMX
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.strip().startswith(f'<li class="queue-item state-shortlisted" id="item-{item.pk}"')
    assert "Preseleccionado" in body
    assert f'hx-post="{reverse("curation:item_restore", args=[item.pk])}"' in body  # undo is one key away
    assert 'name="next" value="/curation/?state=new"' in body
    item.refresh_from_db()
    assert item.state == ItemState.SHORTLISTED


def test_restore_brings_an_item_back_as_new(manager_client, source):
    item = make_item(source, "gone", state=ItemState.DISCARDED)
    manager_client.post(reverse("curation:item_restore", args=[item.pk]))
    item.refresh_from_db()
    assert item.state == ItemState.NEW


def test_an_action_never_sends_the_browser_to_another_site(manager_client, item):
    response = manager_client.post(
        reverse("curation:item_discard", args=[item.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("curation:queue")


def test_an_action_on_a_missing_item_is_404(manager_client):
    assert manager_client.post(reverse("curation:item_shortlist", args=[987654])).status_code == 404


def test_bulk_actions_change_the_ticked_items_only(manager_client, manager, source):
    first, second, third = (make_item(source, guid) for guid in ("a", "b", "c"))
    page = manager_client.get(reverse("curation:queue")).content.decode()
    assert "data-select-all" in page
    assert page.count('form="bulk-form"') == 3

    response = manager_client.post(
        reverse("curation:items_bulk"),
        {"action": "discard", "items": [first.pk, third.pk], "next": reverse("curation:queue")},
        follow=True,
    )

    states = dict(Item.objects.values_list("guid", "state"))
    assert states == {"a": ItemState.DISCARDED, "b": ItemState.NEW, "c": ItemState.DISCARDED}
    assert Item.objects.get(guid="a").state_changed_by == manager
    assert "2 contenidos cambiados." in response.content.decode()

    manager_client.post(reverse("curation:items_bulk"), {"action": "restore", "items": [first.pk]})
    manager_client.post(reverse("curation:items_bulk"), {"action": "shortlist", "items": [second.pk]})
    states = dict(Item.objects.values_list("guid", "state"))
    assert states == {"a": ItemState.NEW, "b": ItemState.SHORTLISTED, "c": ItemState.DISCARDED}


@pytest.mark.parametrize(
    "data",
    [{"action": "discard"}, {"action": "explode", "items": ["1"]}, {"action": "discard", "items": ["x"]}],
)
def test_a_bulk_action_without_items_or_with_nonsense_changes_nothing(manager_client, item, data):
    response = manager_client.post(reverse("curation:items_bulk"), data, follow=True)
    assert 'class="message message-error"' in response.content.decode()
    item.refresh_from_db()
    assert item.state == ItemState.NEW


def test_compose_from_item_starts_a_draft_and_marks_the_item_used(manager_client, manager, source):
    topic = Topic.objects.get(slug="employment")
    item = make_item(
        source, "offer", title="Oferta de empleo", canonical_url="https://e.org/o/1", topic=topic
    )

    response = manager_client.post(reverse("curation:item_compose", args=[item.pk]), follow=True)

    post = Post.objects.get()
    assert response.redirect_chain == [(f"{reverse('publishing:compose')}?post={post.pk}", 302)]
    assert post.text == f"Oferta de empleo https://e.org/o/1 {' '.join(topic.hashtag_list)}".strip()
    assert post.link == "https://e.org/o/1"
    assert post.topic == topic
    assert post.source_item == item
    assert post.created_by == manager
    assert post.status == "draft"
    item.refresh_from_db()
    assert item.state == ItemState.USED
    page = response.content.decode()  # the composer, holding the draft to finish
    assert re.search(r"<textarea[^>]*>\s*Oferta de empleo https://e.org/o/1", page)


# --- Hidden items and an item's page -----------------------------------------------------------


def test_hidden_items_always_say_why(supervisor_client, make_source):
    labora, sepe = make_source(name="LABORA"), make_source(name="SEPE")
    original = make_item(labora, "orig", title="Feria de empleo de Alzira")
    duplicate = make_item(sepe, "dup", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=original)
    excluded = make_item(sepe, "excl", hidden_reason=HiddenReason.EXCLUDED, hidden_detail="paro cardíaco")
    expired = make_item(labora, "late", deadline=timezone.now() - timedelta(hours=1))

    response = supervisor_client.get(reverse("curation:hidden"))
    page = response.content.decode()

    def row(item):
        return re.search(rf'<li class="queue-item" id="item-{item.pk}">.*?</li>', page, re.S).group(0)

    assert "Igual que un contenido de otra fuente" in row(duplicate)
    assert (
        f'<a href="{reverse("curation:item", args=[original.pk])}">Feria de empleo de Alzira</a> (LABORA)'
        in row(duplicate)
    )
    assert "Contiene la palabra excluida «paro cardíaco»." in row(excluded)
    assert f'<a href="{reverse("curation:topics")}">Ver las exclusiones</a>' in row(excluded)  # reads only
    assert reverse("curation:topics") not in row(duplicate) + row(expired)
    assert "Su plazo ha terminado." in row(expired)
    assert f'id="item-{original.pk}"' not in page

    only_excluded = supervisor_client.get(reverse("curation:hidden"), {"reason": "excluded"})
    assert [item.guid for item in only_excluded.context["page"]] == ["excl"]
    only_expired = supervisor_client.get(reverse("curation:hidden"), {"reason": "expired"})
    assert [item.guid for item in only_expired.context["page"]] == ["late"]


def test_the_hidden_list_takes_the_same_queries_for_5_or_50_items(
    manager_client, make_source, django_assert_max_num_queries
):
    counted = []
    for items in (5, 45):
        _fill_queue(make_source, items)
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(5):
            manager_client.get(reverse("curation:hidden"))
        counted.append(len(queries))
    assert counted[0] == counted[1]


def test_an_items_page_shows_its_sanitized_summary_as_html_and_everything_else_escaped(
    manager_client, make_source
):
    labora, sepe = make_source(name="LABORA"), make_source(name="SEPE")
    item = make_item(
        labora,
        "x",
        title="<em>Curso</em> de soldadura",
        summary_html='<p>Inscripción <strong>abierta</strong> <a href="https://e.org/c">aquí</a></p>',
    )
    make_item(sepe, "y", hidden_reason=HiddenReason.DUPLICATE, duplicate_of=item)

    page = manager_client.get(reverse("curation:item", args=[item.pk])).content.decode()

    assert '<p>Inscripción <strong>abierta</strong> <a href="https://e.org/c">aquí</a></p>' in page
    assert "&lt;em&gt;Curso&lt;/em&gt; de soldadura" in page and "<em>Curso</em>" not in page
    assert "SEPE" in page  # also in
    assert f'action="{reverse("curation:item_shortlist", args=[item.pk])}"' in page
    assert "hx-post" not in page.split('<main id="main"')[1]  # the item's page posts and comes back


def test_an_item_hidden_by_an_exclusion_leads_the_manager_to_change_it(manager_client, make_source):
    item = make_item(make_source(), "x", hidden_reason=HiddenReason.EXCLUDED, hidden_detail="paro cardíaco")

    page = manager_client.get(reverse("curation:item", args=[item.pk])).content.decode()

    assert "Contiene la palabra excluida «paro cardíaco»." in page
    assert f'<a href="{reverse("curation:topics")}">Cambiar las exclusiones</a>' in page


def test_a_queue_past_the_count_cap_says_more_than(manager_client, make_source, monkeypatch):
    source = make_source()
    Item.objects.bulk_create(
        Item(source=source, guid=f"new-{n}", guid_hash=f"new-{n}", title=f"Oferta {n}", rank=n)
        for n in range(120)
    )
    monkeypatch.setattr("curation.selectors.COUNT_CAP", 60)
    monkeypatch.setattr("curation.views.COUNT_CAP", 60)

    page = manager_client.get(reverse("curation:queue"), {"page": 2}).content.decode()

    assert '<span class="count-badge">más de 60</span>' in page
    assert "Más de 60 contenidos</h2>" in page
    assert "<span>Página 2</span>" in page  # of pages as far as the count went
    assert "Oferta 69" in page and "Oferta 70" not in page  # items 51-100, best first


def test_a_missing_item_is_404(manager_client):
    assert manager_client.get(reverse("curation:item", args=[987654])).status_code == 404


# --- Keyboard and the Content-Security-Policy ---------------------------------------------------


def test_the_queue_offers_keyboard_shortcuts_from_a_static_script(manager_client, item):
    page = manager_client.get(reverse("curation:queue")).content.decode()

    assert '<script src="/static/js/curation.js" defer></script>' in page
    assert '<dialog id="shortcuts-help"' in page
    row = re.search(rf'<li class="queue-item[^"]*" id="item-{item.pk}"[^>]*>', page).group(0)
    assert 'tabindex="-1"' in row and "data-item" in row and "aria-labelledby" in row
    for key, action in (("s", "shortlist"), ("d", "discard"), ("c", "compose")):
        assert f'data-action="{action}" aria-keyshortcuts="{key}"' in page
    assert "data-open" in page and "data-select" in page
    assert manager_client.get("/static/js/curation.js").status_code == 200


class _Elements(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_curation_pages_need_nothing_the_content_security_policy_blocks(manager_client, url_of):
    for name, needs in READ_PAGES + FORM_PAGES:
        if name == "curation:opml_export":
            continue
        html = manager_client.get(url_of(name, needs)).content.decode()
        for tag, attrs in _Elements(html).found:
            assert not any(attr.startswith("on") for attr in attrs), (name, tag, attrs)
            assert "style" not in attrs and tag != "style", (name, tag)
            if tag == "script":
                assert attrs.get("src", "").startswith("/static/"), name
        assert not re.search(r"<script[^>]*>[^<]+</script>", html), name
