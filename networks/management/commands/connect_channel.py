import json
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from networks.models import Channel, ChannelStatus, Network
from networks.oauth import ConnectFailed, channel_after_connect
from networks.oauth.mastodon import instance_base_url
from networks.registry import CONNECTORS
from networks.services import channel_connect, channel_poll

STDIN = "-"
# The credential a plain token file holds, per network (see each connector module's docstring).
TOKEN_KEY = {
    Network.SANDBOX: "access_token",
    Network.X: "access_token",
    Network.FACEBOOK: "access_token",
    Network.INSTAGRAM: "access_token",
    Network.LINKEDIN: "access_token",
    Network.YOUTUBE: "refresh_token",
    Network.MASTODON: "access_token",
    Network.BLUESKY: "app_password",
}


class Command(BaseCommand):
    help = (
        "Connect (or reconnect) an account with a token issued outside the browser: a Meta system-user "
        "or Page token, a Mastodon app token, a Bluesky app password, a LinkedIn token, a YouTube refresh "
        "token. The token is read from --token-file (or standard input with '--token-file -'), never "
        "from the command line, where other users of the machine and the shell history would see it. "
        "The file holds the token alone, or a JSON object of credentials for networks that need several "
        '(X: {"access_token", "refresh_token", "expires_at", "client_id"}).'
    )

    def add_arguments(self, parser):
        parser.add_argument("--network", required=True, help=f"One of: {', '.join(sorted(TOKEN_KEY))}.")
        parser.add_argument(
            "--account-id",
            required=True,
            help="The account's id on the network: Page id, Instagram account id, LinkedIn organization id, "
            "YouTube channel id (UC…), Mastodon account id, Bluesky DID, X user id.",
        )
        parser.add_argument("--name", required=True, help="The name the desk shows for the account.")
        parser.add_argument(
            "--token-file", required=True, help="File holding the token; '-' reads standard input."
        )
        parser.add_argument("--handle", default="", help="The account's handle (required for Bluesky).")
        parser.add_argument(
            "--instance-url", default="", help="Mastodon: the instance, e.g. https://mastodon.social."
        )
        parser.add_argument(
            "--page-id", default="", help="Instagram: the id of the Facebook Page linked to the account."
        )
        parser.add_argument("--service-url", default="", help="Bluesky: the server, when not bsky.social.")
        parser.add_argument(
            "--no-check",
            action="store_true",
            help="Do not try the token at once with a first look for messages (the worker does within minutes).",
        )

    def handle(self, *args, **options):
        network = options["network"]
        if network not in CONNECTORS or network not in TOKEN_KEY:
            raise CommandError(
                f"No connector is installed for the network {network!r}; use one of: {', '.join(sorted(CONNECTORS))}."
            )
        credentials = self._credentials(network, self._read_token(options["token_file"]), options)
        channel = channel_connect(
            network=network,
            account_id=options["account_id"].strip(),
            display_name=options["name"].strip(),
            handle=options["handle"].strip().lstrip("@"),
            credentials=credentials,
        )
        self.stdout.write(
            f"Connected {channel.get_network_display()} channel {channel.display_name!r} "
            f"(channel id {channel.pk}, account {channel.account_id}); its credentials are stored encrypted."
        )
        # A Meta Page is subscribed to the app's webhooks, which also tries the token at once.
        warning = channel_after_connect(channel)
        if warning:
            self.stderr.write(warning)
        if not options["no_check"]:
            self._check(channel)

    def _check(self, channel: Channel) -> None:
        """Try the token at once, with the first look for messages the worker would make anyway."""
        channel.refresh_from_db()
        fetched = 0
        if channel.status == ChannelStatus.ACTIVE:
            fetched = channel_poll(channel=channel)
            channel.refresh_from_db()
        if channel.status == ChannelStatus.NEEDS_RECONNECT:
            raise CommandError(
                f"{channel.get_network_display()} refused the token: {channel.last_error} The channel is "
                "stored but marked as needing reconnection; connect it again with a valid token."
            )
        if channel.last_error:
            self.stderr.write(f"The token could not be tried now: {channel.last_error}")
            return
        self.stdout.write(f"The token works: a first look for messages brought {fetched}.")

    def _read_token(self, token_file: str) -> str:
        try:
            text = sys.stdin.read() if token_file == STDIN else Path(token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read the token file {token_file!r}: {exc.strerror}.") from None
        text = text.strip()
        if not text:
            raise CommandError("The token file is empty.")
        return text

    def _credentials(self, network: str, text: str, options: dict) -> dict:
        if text.startswith(("{", "[")):
            try:
                credentials = json.loads(text)
            except ValueError:
                raise CommandError("The token file starts like JSON but is not valid JSON.") from None
            if not isinstance(credentials, dict) or not all(isinstance(key, str) for key in credentials):
                raise CommandError("The token file's JSON must be an object of credentials.")
        else:
            credentials = {TOKEN_KEY[network]: text}
        if not credentials.get(TOKEN_KEY[network]):
            raise CommandError(f"The credentials for {network} need {TOKEN_KEY[network]!r}.")
        if network == Network.MASTODON:
            if not options["instance_url"] and not credentials.get("api_base_url"):
                raise CommandError("Mastodon needs --instance-url.")
            try:
                credentials["api_base_url"] = instance_base_url(
                    options["instance_url"] or credentials["api_base_url"]
                )
            except ConnectFailed as exc:
                raise CommandError(str(exc)) from None
        elif network == Network.INSTAGRAM:
            credentials.setdefault("page_id", options["page_id"].strip())
            if not credentials["page_id"]:
                raise CommandError("Instagram needs --page-id, the Facebook Page linked to the account.")
        elif network == Network.BLUESKY:
            credentials.setdefault("handle", options["handle"].strip().lstrip("@"))
            if not credentials["handle"]:
                raise CommandError("Bluesky needs --handle.")
            if options["service_url"]:
                credentials["service_url"] = options["service_url"].strip().rstrip("/")
        elif network == Network.YOUTUBE:
            credentials.setdefault("client_id", settings.SOCIALDESK_GOOGLE_CLIENT_ID)
            credentials.setdefault("client_secret", settings.SOCIALDESK_GOOGLE_CLIENT_SECRET)
            if not credentials["client_id"] or not credentials["client_secret"]:
                raise CommandError(
                    "YouTube needs the Google OAuth client the refresh token was issued to: set "
                    "SOCIALDESK_GOOGLE_CLIENT_ID and SOCIALDESK_GOOGLE_CLIENT_SECRET (or give client_id and "
                    "client_secret in the token file's JSON)."
                )
        elif network == Network.X and "refresh_token" not in credentials:
            self.stderr.write(
                "Warning: without refresh_token and expires_at the X channel stops working when this access "
                "token ends (X's last 2 hours)."
            )
        return credentials
