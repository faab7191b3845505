"""`manage.py fetch_sources`: the due sources, --all, or --source ID, through the worker's code."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from curation.models import FetchStatus, Source, SourceKind
from tests.curation.conftest import rss, rss_item

pytestmark = pytest.mark.usefixtures("allow_loopback")


@pytest.fixture
def sources(feed_server, make_source):
    good = make_source(
        feed_server.serve("/good", rss(rss_item("g1", "Curso", "https://e.org/1"))), name="Good"
    )
    broken = make_source(
        feed_server.serve("/broken", b"<html>not a feed</html>", content_type="text/html"), name="Broken"
    )
    later = make_source(
        feed_server.serve("/later", rss(rss_item("l1", "Beca", "https://e.org/2"))), name="Later"
    )
    muted = make_source(feed_server.serve("/muted", rss()), name="Muted", muted=True)
    Source.objects.filter(pk=later.pk).update(next_fetch_at=timezone.now() + timedelta(hours=1))
    return {"good": good, "broken": broken, "later": later, "muted": muted}


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("fetch_sources", *args, stdout=out)
    return out.getvalue()


def test_by_default_the_due_sources_are_fetched_and_a_broken_one_does_not_stop_the_rest(sources, feed_server):
    output = _run()

    assert f"#{sources['good'].pk}: ok, 1 new" in output
    assert f"#{sources['broken'].pk}: error (not_a_feed)" in output
    assert "2 source(s) considered, 1 with errors." in output
    assert feed_server.hits("/later") == [] and feed_server.hits("/muted") == []


def test_what_a_read_skipped_or_could_not_understand_is_printed(feed_server, make_source):
    page = (
        "<ul>"
        + "".join(f"<li><a href='/o/{n}'>Oferta {n}</a> <i>pronto</i></li>" for n in range(7))
        + "</ul>"
    )
    source = make_source(
        feed_server.serve("/page", page.encode(), content_type="text/html"),
        kind=SourceKind.PAGE,
        item_selector="li",
        title_selector="a",
        date_selector="i",
    )

    output = _run("--source", str(source.pk))

    assert f"#{source.pk}: ok, 7 new" in output
    assert output.count(f"#{source.pk}:   warning: The date “pronto” could not be read.") == 5
    assert f"#{source.pk}:   and 2 more warnings" in output


def test_all_fetches_every_source_that_is_not_muted(sources, feed_server):
    _run("--all")
    assert feed_server.hits("/later") and not feed_server.hits("/muted")
    assert Source.objects.get(pk=sources["later"].pk).last_status == FetchStatus.OK


def test_source_fetches_the_named_ones_even_when_muted(sources, feed_server):
    output = _run("--source", str(sources["muted"].pk), "--source", str(sources["later"].pk))
    assert feed_server.hits("/muted") and feed_server.hits("/later") and not feed_server.hits("/good")
    assert "2 source(s) considered" in output


def test_an_unknown_source_is_an_error(sources):
    with pytest.raises(CommandError, match="No source with id 999999"):
        _run("--source", "999999")


def test_a_source_being_fetched_by_a_worker_is_skipped(sources, feed_server):
    Source.objects.filter(pk=sources["good"].pk).update(claimed_until=timezone.now() + timedelta(minutes=5))
    output = _run("--source", str(sources["good"].pk))
    assert "skipped" in output
    assert feed_server.hits("/good") == []
