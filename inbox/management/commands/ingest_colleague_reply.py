"""File one e-mail as a colleague's answer: the mail server's pipe for desk+<token>@… addresses.

Postfix, for instance: ``desk: "|/app/.venv/bin/python /app/manage.py ingest_colleague_reply -"``.
The exit status speaks the mail server's language (sysexits): 65 refuses the e-mail for good (the
sender gets a bounce saying why), 75 asks the server to try again later (the database is away).
"""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inbox.colleague_mail import MAX_MAIL_BYTES, ColleagueMailRefused, colleague_reply_ingest

EX_DATAERR = getattr(os, "EX_DATAERR", 65)
EX_NOINPUT = getattr(os, "EX_NOINPUT", 66)
EX_TEMPFAIL = getattr(os, "EX_TEMPFAIL", 75)


class Command(BaseCommand):
    help = "File an e-mailed answer from a colleague as a private note; read from FILE, or stdin with -."

    def add_arguments(self, parser):
        parser.add_argument("source", help="the e-mail as a file (RFC 5322), or - for standard input")

    def handle(self, *args, source: str, **options):
        raw = self._read(source)
        try:
            filed = colleague_reply_ingest(raw)
        except ColleagueMailRefused as exc:
            raise CommandError(str(exc), returncode=EX_DATAERR) from exc
        except DatabaseError as exc:
            raise CommandError(f"The database is not available: {exc}", returncode=EX_TEMPFAIL) from exc
        reference = filed.colleague_request.pk
        if filed.note is None:
            self.stdout.write(f"Already filed: question {reference}.")
        else:
            self.stdout.write(f"Filed as note {filed.note.pk} on question {reference}.")

    def _read(self, source: str) -> bytes:
        # One byte more than allowed, so a too large e-mail is refused rather than cut.
        if source == "-":
            return sys.stdin.buffer.read(MAX_MAIL_BYTES + 1)
        try:
            with Path(source).open("rb") as mail:
                return mail.read(MAX_MAIL_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"{source} cannot be read: {exc}", returncode=EX_NOINPUT) from exc
