from django.core.management.base import BaseCommand

from socialdesk.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo cast, office hours, a sandbox channel, sample curation sources and a first live "
        "post (idempotent), and print the logins."
    )

    def handle(self, *args, **options):
        logins = demo_seed()
        self.stdout.write("SocialDesk demo logins (http://127.0.0.1:8000/):")
        for login in logins:
            self.stdout.write(f"  {login.role:<14} {login.username:<8} password: {login.password}")
