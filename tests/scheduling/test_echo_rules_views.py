"""The echo rules page: every channel in use with its rule; the manager changes it (recorded in the
audit log), the supervisor only reads it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from networks.models import ChannelStatus
from scheduling.models import AudienceSegment, EchoRule
from socialdesk.models.audit import AuditAction, AuditEvent
from tests.networks.fixtures import make_sandbox_channel

PAGE = reverse("publishing:echo_rules")


def save_url(channel) -> str:
    return reverse("publishing:echo_rule_save", args=[channel.pk])


def rule_data(channel, **overrides) -> dict:
    values = {
        "is_enabled": "on",
        "echoes_per_post": "3",
        "min_gap_minutes": "90",
        "exploration_share": "0.25",
        "auto_echo_outside_posts": "on",
        "default_segment": str(AudienceSegment.objects.get(slug="students").pk),
        **overrides,
    }
    return {f"channel-{channel.pk}-{name}": value for name, value in values.items() if value is not None}


def test_the_manager_and_the_supervisor_read_the_page_an_outsider_does_not(
    client, manager_client, supervisor_client, outsider, sandbox_channel
):
    assert manager_client.get(PAGE).status_code == 200
    assert supervisor_client.get(PAGE).status_code == 200
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 403


def test_the_page_shows_every_channel_in_use_with_its_rule_and_writes_nothing(
    manager_client, sandbox_channel
):
    _account, disabled = make_sandbox_channel(handle="antiguo", name="Canal Antiguo")
    disabled.status = ChannelStatus.DISABLED
    disabled.save()
    EchoRule.objects.create(channel=sandbox_channel, echoes_per_post=4)

    page = manager_client.get(PAGE).content.decode()

    assert sandbox_channel.display_name in page
    assert "Canal Antiguo" not in page
    assert f'name="channel-{sandbox_channel.pk}-echoes_per_post" value="4"' in page
    assert save_url(sandbox_channel) in page
    assert EchoRule.objects.count() == 1


def test_the_manager_saves_a_rule_and_the_change_is_audited(manager_client, manager, sandbox_channel):
    response = manager_client.post(save_url(sandbox_channel), rule_data(sandbox_channel))

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}#channel-{sandbox_channel.pk}"
    rule = EchoRule.objects.get(channel=sandbox_channel)
    assert (rule.echoes_per_post, rule.min_gap_minutes, rule.exploration_share) == (3, 90, 0.25)
    assert rule.auto_echo_outside_posts and rule.is_enabled
    assert rule.default_segment.slug == "students"
    event = AuditEvent.objects.get(action=AuditAction.ECHO_RULE_CHANGED)
    assert event.actor == manager
    assert event.target_id == str(rule.pk)
    assert event.details["changes"]["echoes_per_post"] == [2, 3]
    assert event.details["changes"]["default_segment"] == [None, "students"]
    assert "is_enabled" not in event.details["changes"]


def test_saving_an_unchanged_rule_records_nothing(manager_client, sandbox_channel):
    EchoRule.objects.create(channel=sandbox_channel)
    data = rule_data(
        sandbox_channel,
        echoes_per_post="2",
        min_gap_minutes="120",
        exploration_share="0.2",
        auto_echo_outside_posts=None,
        default_segment="",
    )

    assert manager_client.post(save_url(sandbox_channel), data).status_code == 302
    assert not AuditEvent.objects.filter(action=AuditAction.ECHO_RULE_CHANGED).exists()


def test_switching_echoes_off(manager_client, sandbox_channel):
    manager_client.post(save_url(sandbox_channel), rule_data(sandbox_channel, is_enabled=None))

    assert EchoRule.objects.get(channel=sandbox_channel).is_enabled is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("echoes_per_post", "7"),
        ("echoes_per_post", "-1"),
        ("min_gap_minutes", "29"),
        ("exploration_share", "0.6"),
        ("exploration_share", "-0.1"),
        ("default_segment", "999999"),
    ],
)
def test_values_out_of_range_are_refused_with_the_page_and_its_errors(
    manager_client, sandbox_channel, field, value
):
    response = manager_client.post(save_url(sandbox_channel), rule_data(sandbox_channel, **{field: value}))

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not EchoRule.objects.filter(channel=sandbox_channel).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.ECHO_RULE_CHANGED).exists()


def test_the_supervisor_sees_the_rule_but_cannot_change_it(supervisor_client, sandbox_channel):
    EchoRule.objects.create(channel=sandbox_channel, min_gap_minutes=240)

    page = supervisor_client.get(PAGE).content.decode()
    response = supervisor_client.post(save_url(sandbox_channel), rule_data(sandbox_channel))

    assert "240" in page
    assert save_url(sandbox_channel) not in page
    assert response.status_code == 403
    assert EchoRule.objects.get(channel=sandbox_channel).min_gap_minutes == 240


def test_saving_is_post_only_and_a_disabled_channel_has_no_rule_to_save(manager_client, sandbox_channel):
    assert manager_client.get(save_url(sandbox_channel)).status_code == 405
    sandbox_channel.status = ChannelStatus.DISABLED
    sandbox_channel.save()

    assert manager_client.post(save_url(sandbox_channel), rule_data(sandbox_channel)).status_code == 404


def test_the_page_costs_the_same_queries_for_one_channel_or_four(manager_client, sandbox_channel):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(PAGE).status_code == 200
        return len(captured)

    one = queries()
    for n in range(3):
        _account, channel = make_sandbox_channel(handle=f"canal{n}", name=f"Canal {n}")
        EchoRule.objects.create(channel=channel, default_segment=AudienceSegment.objects.first())

    assert queries() == one
