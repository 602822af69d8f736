"""The shipped copy says "the button below" where a button stands, not "the link below".

Stored copy still as shipped gets the new words; copy marketing has edited is theirs and
stays as it is.
"""

from django.db import migrations

OLD = {
    "password_reset": "you, use the link below to choose a new one.",
    "password_changed": "reset your password right away with the link below,",
}
NEW = {
    "password_reset": "you, use the button below to choose a new one.",
    "password_changed": "reset your password right away with the button below,",
}


def button_wording(apps, schema_editor):
    EmailCopy = apps.get_model("auth_flow", "EmailCopy")
    for name, old in OLD.items():
        for copy in EmailCopy.objects.filter(name=name, body__contains=old):
            copy.body = copy.body.replace(old, NEW[name])
            copy.version += 1
            copy.save()


class Migration(migrations.Migration):
    dependencies = [("auth_flow", "0010_username_canonical")]

    operations = [migrations.RunPython(button_wording, migrations.RunPython.noop)]
