import getpass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from auth_flow.models import User

GROUP = "Marketing"


def marketing_user_create(*, username: str, email: str, password: str) -> User:
    """Create, or update, a staff account that can edit email copy and nothing else."""
    group = Group.objects.get(name=GROUP)  # made by migration 0004
    with transaction.atomic():
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.email = User.objects.normalize_email(email)
        user.is_staff = True
        # Never a superuser: the group's permissions are all this account may use.
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.add(group)
    return user


class Command(BaseCommand):
    help = "Create a marketing account: staff, in the Marketing group, able to edit email copy."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument("--password", help="Set this password instead of asking for one.")

    def handle(self, *args, username, email, password, **options):
        try:
            validate_email(email)
        except ValidationError as error:
            raise CommandError(f"{email!r} is not an email address.") from error
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        marketing_user_create(username=username, email=email, password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Marketing account {username} can now log in at /admin/.")
        )
