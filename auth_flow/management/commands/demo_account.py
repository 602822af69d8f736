"""Create the demo account that `make run` prints."""

from django.core.management.base import BaseCommand

from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import User

USERNAME, EMAIL, PASSWORD = "demo", "demo@example.com", "demo-password-123"
MARKETING = ("marketing", "marketing@example.com", "marketing-password-123")


class Command(BaseCommand):
    help = "Create (or reset) the demo accounts and print how to log in with them."

    def handle(self, *args, **options):
        user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": EMAIL})
        user.email = EMAIL
        user.set_password(PASSWORD)
        user.save()
        username, email, password = MARKETING
        marketing_user_create(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo account: username {USERNAME} (or {EMAIL}), password {PASSWORD}\n"
                f"Marketing account (edits email copy at /admin/): username {username}, "
                f"password {password}"
            )
        )
