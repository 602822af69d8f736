from django.core.management.base import BaseCommand

from auth_flow.models import User

USERNAME, EMAIL, PASSWORD = "demo", "demo@example.com", "demo-password-123"


class Command(BaseCommand):
    help = "Create (or reset) the demo account and print how to log in with it."

    def handle(self, *args, **options):
        user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": EMAIL})
        user.email = EMAIL
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo account: username {USERNAME} (or {EMAIL}), password {PASSWORD}"
            )
        )
