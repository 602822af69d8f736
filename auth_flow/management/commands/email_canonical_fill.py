"""Fill in the canonical address of accounts that lack one."""

from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction

from auth_flow.checks import email_canonical_gaps
from auth_flow.models import User


class Command(BaseCommand):
    help = (
        "Fill in the canonical address of accounts that have none (check auth_flow.W001), "
        "skipping those whose address another account already holds."
    )

    def handle(self, *args, **options):
        gaps = email_canonical_gaps()
        filled, held = 0, list(gaps.held)
        for pk, canonical in gaps.fillable.items():
            try:
                # One at a time: an account saved meanwhile with the same address makes
                # this one a duplicate, not the whole run a failure.
                with transaction.atomic():
                    filled += User.objects.filter(pk=pk, email_canonical__isnull=True).update(
                        email_canonical=canonical
                    )
            except IntegrityError:
                held.append(pk)
        self.stdout.write(f"Filled the canonical address of {filled} account(s).")
        if held:
            names = User.objects.filter(pk__in=held).order_by("pk").values_list("pk", "username")
            self.stdout.write(
                f"Skipped {len(held)} account(s) whose address another account already "
                "holds; change or remove their address in the admin: "
                + ", ".join(f"{username} (id {pk})" for pk, username in names)
            )
