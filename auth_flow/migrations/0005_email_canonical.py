"""Store each address's canonical spelling (NFKC + casefold), unique, for every look-up.

Existing rows are filled in here. Where two accounts' addresses are one address in
canonical form (`ſam@` and `sam@`), the older account keeps it and the newer gets none:
it can still log in by username, and an operator sees it in the log and the admin.
"""

import logging
import unicodedata

from django.db import migrations, models

logger = logging.getLogger(__name__)


def email_canonical_fill(apps, schema_editor):
    User = apps.get_model("auth_flow", "User")
    taken = set()
    for user in User.objects.order_by("pk").only("pk", "email"):
        canonical = unicodedata.normalize("NFKC", user.email.strip()).casefold() or None
        if canonical in taken:
            logger.warning(
                "Account %s shares its address with an older account in canonical form; "
                "it keeps its address but cannot be found by it.",
                user.pk,
            )
            canonical = None
        if canonical:
            taken.add(canonical)
        User.objects.filter(pk=user.pk).update(email_canonical=canonical)


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0004_email_copy_defaults_marketing_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_canonical",
            field=models.CharField(editable=False, max_length=254, null=True),
        ),
        migrations.RunPython(email_canonical_fill, migrations.RunPython.noop),
    ]
