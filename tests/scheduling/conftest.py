from datetime import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from scheduling.deliveries import delivery_schedule
from scheduling.models import Delivery, Post
from tests.networks.fixtures import (
    sandbox,
    sandbox_account,
    sandbox_account_and_channel,
    sandbox_channel,
)

__all__ = ["sandbox", "sandbox_account", "sandbox_account_and_channel", "sandbox_channel"]


@pytest.fixture(autouse=True)
def _forget_the_pause_banner():
    """The banner lives in the (per-process) cache, which outlives each test's database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def post(db, manager) -> Post:
    return Post.objects.create(
        text="Nuevas ofertas de empleo público", link="https://example.org/ofertas", created_by=manager
    )


@pytest.fixture
def make_delivery(post, sandbox_channel):
    def make(
        text: str = "Ofertas de empleo de esta semana", *, at: datetime | None = None, **fields
    ) -> Delivery:
        delivery = delivery_schedule(post=post, channel=sandbox_channel, text=text, at=at or timezone.now())
        if fields:
            Delivery.objects.filter(pk=delivery.pk).update(**fields)
            delivery.refresh_from_db()
        return delivery

    return make
