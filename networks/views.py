"""The channels page, the connect flows and the webhook endpoint. Each view checks access, calls one
service and renders or redirects; the flows themselves are in networks.oauth, webhooks in
networks.webhooks."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from networks.forms import BlueskyForm, ChooseAccountForm, MastodonInstanceForm
from networks.models import Channel, Network
from networks.oauth import (
    Connected,
    ConnectFailed,
    ConnectKind,
    bluesky_connect,
    connect_choices,
    connect_choose,
    connect_option,
    connect_options,
    oauth_finish,
    oauth_start,
)
from networks.selectors import channel_rows, webhook_deliveries_unread
from networks.services import channel_disable
from networks.webhooks import (
    MAX_BODY_BYTES,
    WebhookRefused,
    meta_delivery_receive,
    meta_subscription_challenge,
)
from socialdesk.access import Capability, require


@require(Capability.VIEW_CHANNELS)
@require_GET
def channels(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "networks/channels.html",
        {"rows": channel_rows(), "options": connect_options(), "unread_deliveries": webhook_deliveries_unread()},
    )


@require(Capability.MANAGE_CHANNELS)
@require_GET
def connect(request: HttpRequest, network: str) -> HttpResponse:
    """Send the administrator to the network's consent page (a link, not a form: the page's
    Content-Security-Policy lets forms post only to this site, redirects included)."""
    option = connect_option(network)
    if option is None or option.kind != ConnectKind.REDIRECT:
        raise Http404
    try:
        return redirect(oauth_start(session=request.session, network=network))
    except ConnectFailed as exc:
        messages.error(request, str(exc))
        return redirect("networks:channels")


@require(Capability.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def connect_mastodon(request: HttpRequest) -> HttpResponse:
    option = connect_option(Network.MASTODON)
    if option is None:
        raise Http404
    form = MastodonInstanceForm(request.POST or None, initial={"instance": request.GET.get("instance", "")})
    if request.method == "POST" and form.is_valid():
        try:
            authorize_url = oauth_start(
                session=request.session, network=Network.MASTODON, instance=form.cleaned_data["instance"]
            )
        except ConnectFailed as exc:
            form.add_error(None, str(exc))
        else:
            # A page with a link rather than a redirect: see `connect`.
            return render(
                request, "networks/connect_continue.html", {"option": option, "authorize_url": authorize_url}
            )
    return render(request, "networks/connect_mastodon.html", {"option": option, "form": form})


@require(Capability.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def connect_bluesky(request: HttpRequest) -> HttpResponse:
    if connect_option(Network.BLUESKY) is None:
        raise Http404
    form = BlueskyForm(request.POST or None, initial={"handle": request.GET.get("handle", "")})
    if request.method == "POST" and form.is_valid():
        try:
            connected = bluesky_connect(**form.cleaned_data, actor=request.user, request=request)
        except ConnectFailed as exc:
            form.add_error(None, str(exc))
        else:
            _say_connected(request, connected)
            return redirect("networks:channels")
    return render(request, "networks/connect_bluesky.html", {"form": form})


@require(Capability.MANAGE_CHANNELS)
@require_GET
def connect_callback(request: HttpRequest, network: str) -> HttpResponse:
    try:
        connected = oauth_finish(
            session=request.session,
            network=network,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error_description") or request.GET.get("error", ""),
            actor=request.user,
            request=request,
        )
    except ConnectFailed as exc:
        messages.error(request, str(exc))
        return redirect("networks:channels")
    if connected is None:
        return redirect("networks:connect_choose", network=network)
    _say_connected(request, connected)
    return redirect("networks:channels")


@require(Capability.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest, network: str) -> HttpResponse:
    option = connect_option(network)
    if option is None:
        raise Http404
    accounts = connect_choices(session=request.session, network=network)
    if not accounts:
        messages.error(request, _("There is nothing to choose from any more: start connecting again."))
        return redirect("networks:channels")
    form = ChooseAccountForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        try:
            connected = connect_choose(
                session=request.session,
                network=network,
                account_id=form.cleaned_data["account_id"],
                actor=request.user,
                request=request,
            )
        except ConnectFailed as exc:
            messages.error(request, str(exc))
            return redirect("networks:channels")
        _say_connected(request, connected)
        return redirect("networks:channels")
    return render(request, "networks/choose.html", {"form": form, "option": option})


@require(Capability.MANAGE_CHANNELS)
@require_http_methods(["GET", "POST"])
def disable(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST disables."""
    channel = get_object_or_404(Channel, pk=pk)
    if request.method == "POST":
        channel_disable(channel=channel, actor=request.user, request=request)
        messages.success(request, _("Disabled: %(channel)s.") % {"channel": channel})
        return redirect("networks:channels")
    return render(request, "networks/disable.html", {"channel": channel})


@login_not_required  # Meta calls it, with its signature instead of a session
@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    try:
        if request.method == "GET":
            challenge = meta_subscription_challenge(
                mode=request.GET.get("hub.mode", ""),
                verify_token=request.GET.get("hub.verify_token", ""),
                challenge=request.GET.get("hub.challenge", ""),
            )
            return HttpResponse(challenge, content_type="text/plain; charset=utf-8")
        if _declared_length(request) > MAX_BODY_BYTES:
            raise WebhookRefused(413)
        meta_delivery_receive(body=request.body, signature=request.headers.get("X-Hub-Signature-256", ""))
    except WebhookRefused as exc:
        return HttpResponse(status=exc.status)
    return HttpResponse(status=200)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise WebhookRefused(400) from None


def _say_connected(request: HttpRequest, connected: Connected) -> None:
    messages.success(request, _("Connected: %(channel)s.") % {"channel": connected.channel})
    if connected.warning:
        messages.warning(request, connected.warning)
