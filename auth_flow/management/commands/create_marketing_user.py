"""Create a staff account in the Marketing group, or with --writer in Email writers."""

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import User


class Command(BaseCommand):
    help = (
        "Create a marketing account: staff who edit and publish email copy (the Marketing "
        "group), or with --writer only write drafts for someone else to publish."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument("--password", help="Set this password instead of asking for one.")
        parser.add_argument(
            "--writer",
            action="store_true",
            help="Write drafts only (the Email writers group); publishing is left to others.",
        )

    def handle(self, *args, username, email, password, writer, **options):
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
        marketing_user_create(username=username, email=email, password=password, writer=writer)
        role = "write drafts of the emails" if writer else "edit and publish the emails"
        self.stdout.write(
            self.style.SUCCESS(
                f"Marketing account {username} can now log in at /admin/ to {role}."
            )
        )
