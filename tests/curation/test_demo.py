"""The demo curation `make run` seeds: sample documents through the real parsers, scorer and dedupe."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from curation.demo import DEMO_SOURCES, demo_curation_seed, fill_dates
from curation.models import HiddenReason, Item, ItemState, Source
from curation.services import sources_claim
from scheduling.models import Delivery, DeliveryState, Post
from scheduling.tasks import dispatch_due_deliveries
from socialdesk.business_calendar import business_calendar

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_dates_are_written_relative_to_the_moment_of_seeding():
    text = "{{hours_ago:3:rfc822}} | {{hours_ago:6:iso}} | {{days_ahead:2:date}} | {{days_ahead:-1:date}}"
    assert fill_dates(text, NOW) == (
        "Sat, 28 Nov 2026 07:00:00 +0000 | 2026-11-28T04:00:00+00:00 | 2026-11-30 | 2026-11-27"
    )


def test_the_demo_fills_the_queue_through_the_real_path():
    sources = demo_curation_seed(NOW)
    assert [source.name for source in sources] == [demo.name for demo in DEMO_SOURCES]
    assert all(source.muted and ".invalid" in source.host for source in sources)

    items = Item.objects.filter(source__in=sources)
    assert items.count() == 13  # every sample entry: 6 news, 4 Valencian novelties, 3 offers
    fair = items.get(title__startswith="Feria de empleo")
    assert fair.score > 0 and fair.score_reasons
    assert "<script" not in fair.summary_html and "stats.wordpress.com" not in fair.summary_html
    # The same fair in Valencian, linked with other tracking parameters, is hidden as its duplicate.
    assert items.get(title__startswith="Fira d'ocupació").duplicate_of == fair
    assert items.get(title__contains="paro cardíaco").hidden_reason == HiddenReason.EXCLUDED
    assert items.get(title__contains="Horario especial").score == 0
    offers = items.filter(source=sources[2])
    assert all(offer.deadline and offer.place for offer in offers)
    assert offers.filter(deadline__lt=NOW).count() == 1  # leaves the queue: its deadline passed


def test_demo_sources_are_never_claimed_for_fetching():
    demo_curation_seed(NOW)
    assert sources_claim(now=NOW + timedelta(days=3)) == []


def test_a_desk_with_sources_gets_no_demo(make_source):
    make_source(name="Nuestra fuente")
    assert demo_curation_seed(NOW) == []
    assert Source.objects.count() == 1 and not Item.objects.exists()


def test_seed_demo_twice_seeds_curation_once(manager_client):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert Source.objects.count() == len(DEMO_SOURCES)

    queue = manager_client.get(reverse("curation:queue")).content.decode()
    assert "Curs gratuït de competències digitals per a persones desocupades" in queue
    assert "Fira d'ocupació" not in queue  # a duplicate: on the hidden page, not in the queue


def test_why_the_demo_sources_are_muted_is_written_in_the_desks_language(settings):
    settings.LANGUAGE_CODE = "es"
    sources = demo_curation_seed(NOW)
    assert all(source.muted_reason.startswith("Fuente de demostración") for source in sources)


# A Tuesday at 10:00 in Madrid: within the demo's office hours, when a live post gets its echoes.
OFFICE_HOURS = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@time_machine.travel(OFFICE_HOURS, tick=False)
def test_the_demo_post_made_from_the_queue_goes_out_live_and_gets_its_echoes(
    django_capture_on_commit_callbacks,
):
    call_command("seed_demo", stdout=io.StringIO())
    post = Post.objects.get()
    assert post.source_item.title == "Abierta la matrícula de cursos con certificado de profesionalidad"
    assert post.source_item.state == ItemState.USED
    [live] = post.deliveries.all()
    assert live.scheduled_at <= timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        dispatch_due_deliveries()  # the beat's dispatcher, then the worker's publishing and echo planning

    live.refresh_from_db()
    assert live.state == DeliveryState.PUBLISHED
    echoes = list(Delivery.objects.filter(echo_of=live))
    assert len(echoes) == 2  # the channel's default echo rule
    calendar = business_calendar()
    assert all(not calendar.is_working_time(echo.scheduled_at) for echo in echoes)

    call_command("seed_demo", stdout=io.StringIO())
    assert Post.objects.count() == 1
