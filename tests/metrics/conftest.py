"""Office hours and timelines for the metrics tests.

Office hours here are Monday to Friday 09:00–17:00, Europe/Madrid, with the Comunitat Valenciana's
public holidays (the settings' default): a Friday 16:30 message with a one-hour target is due on
Monday at 09:30.
"""

from datetime import time

import pytest
from django.core.cache import cache

from socialdesk.models import WorkingInterval
from tests.networks.fixtures import sandbox_account, sandbox_account_and_channel, sandbox_channel

__all__ = ["sandbox_account", "sandbox_account_and_channel", "sandbox_channel"]


@pytest.fixture
def office_hours(db):
    WorkingInterval.objects.bulk_create(
        WorkingInterval(weekday=day, starts_at=time(9), ends_at=time(17)) for day in range(5)
    )


@pytest.fixture(autouse=True)
def _no_cached_best_hours():
    """metrics.reports caches best hours for some minutes: no test sees another test's."""
    cache.clear()
    yield
    cache.clear()
