"""The echo rules page: how each channel echoes live posts in the off-hours."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from networks.models import Channel, ChannelStatus
from scheduling.echo import echo_rule_update, echo_rules_by_channel
from scheduling.forms_echo import EchoRuleForm
from scheduling.models import AudienceSegment, EchoRule
from socialdesk.access import Capability, require


def _prefix(channel: Channel) -> str:
    return f"channel-{channel.pk}"


def _page(request: HttpRequest, bound: EchoRuleForm | None = None, status: int = 200) -> HttpResponse:
    """Every channel's rule with its form; ``bound`` replaces the form of the channel it was sent for."""
    segment_choices = [
        (str(pk), name)
        for pk, name in AudienceSegment.objects.filter(is_active=True).values_list("pk", "name")
    ]
    rules = []
    for channel, rule in echo_rules_by_channel():
        form = bound if bound is not None and bound.prefix == _prefix(channel) else None
        form = form or EchoRuleForm(instance=rule, prefix=_prefix(channel), segment_choices=segment_choices)
        rules.append({"channel": channel, "rule": rule, "form": form})
    return render(request, "scheduling/echo_rules.html", {"rules": rules}, status=status)


@require(Capability.READ_DESK)
def echo_rules(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require(Capability.WORK_DESK)
@require_POST
def echo_rule_save(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel.objects.exclude(status=ChannelStatus.DISABLED), pk=channel_id)
    rule = EchoRule.objects.filter(channel=channel).first() or EchoRule(channel=channel)
    form = EchoRuleForm(request.POST, instance=rule, prefix=_prefix(channel))
    if not form.is_valid():
        return _page(request, bound=form, status=400)
    echo_rule_update(channel=channel, values=form.cleaned_data, actor=request.user, request=request)
    messages.success(request, gettext("Echo rule saved for %(channel)s.") % {"channel": channel.display_name})
    return redirect(f"{reverse('publishing:echo_rules')}#{_prefix(channel)}")
