"""Erase a citizen's personal data when the request came by e-mail, on paper or at the counter.

    manage.py erase_contact --network x --handle lucia_moreno [--by marta]
    manage.py erase_contact --contact 42 [--by marta] [--no-input]

Does what the button on the conversation page does (inbox.privacy.contact_erase), for the contact
the identity belongs to (all of its networks), and prints how many items were erased.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inbox.models import Contact, Identity
from inbox.privacy import ErasureRefused, contact_erase
from networks.models import Network


class Command(BaseCommand):
    help = "Erase one citizen's personal data on every network (right to erasure)."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--contact", type=int, help="the contact's number (as in the admin site)")
        which.add_argument("--handle", help="the citizen's handle on --network, with or without @")
        parser.add_argument("--network", choices=Network.values, help="the network of --handle")
        parser.add_argument("--by", help="username of the person handling the request (for the audit log)")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="do not ask for confirmation"
        )

    def handle(self, *args, contact, handle, network, by, interactive, **options):
        target = self._contact(contact_id=contact, network=network, handle=handle)
        actor = self._actor(by)
        names = ", ".join(str(identity) for identity in target.identities.all()) or str(target)
        if interactive:
            answer = input(
                f"Erase the personal data of contact {target.pk} ({names})? This cannot be undone. [y/N] "
            )
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Nothing was erased.")
        try:
            erased = contact_erase(contact=target, actor=actor)
        except ErasureRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Erased contact {target.pk} ({names}): {erased}.")

    def _contact(self, *, contact_id: int | None, network: str | None, handle: str | None) -> Contact:
        if contact_id is not None:
            found = Contact.objects.filter(pk=contact_id).first()
            if found is None:
                raise CommandError(f"There is no contact {contact_id}.")
            return found
        if not network:
            raise CommandError("--handle needs --network.")
        identities = list(
            Identity.objects.filter(network=network, handle__iexact=handle.removeprefix("@")).select_related(
                "contact"
            )
        )
        contacts = {identity.contact for identity in identities}
        if not contacts:
            raise CommandError(f"Nobody with the handle {handle!r} on {network}.")
        if len(contacts) > 1:
            numbers = ", ".join(str(found.pk) for found in sorted(contacts, key=lambda found: found.pk))
            raise CommandError(
                f"Several contacts have the handle {handle!r} on {network}: {numbers}. Use --contact."
            )
        return contacts.pop()

    def _actor(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        return user
