"""Give each email its shipped copy, and create the Marketing group that edits it.

The copy is frozen here, as it shipped when this migration was written, so the history
of a database never depends on today's code. Emails declared later get their rows from
`auth_flow.apps` after every `migrate`.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COPY = {
    "password_reset": {
        "subject": "Reset your {{ site_name }} password",
        "body": (
            "Hello {{ username }},\n\n"
            "Someone asked to reset the password of your {{ site_name }} account. If it was "
            "you, use the link below to choose a new one. It works once and expires in "
            "{{ expires_in }} (at {{ expires_at }}).\n\n"
            "[button]\n\n"
            "The request was made on {{ requested_at }} from IP address {{ ip }} using "
            "{{ browser }}.\n\n"
            "If this wasn't you, ignore this email: your password stays as it is and nobody "
            "can change it without this link."
        ),
        "button": "Choose a new password",
    },
    "password_changed": {
        "subject": "Your {{ site_name }} password was changed",
        "body": (
            "Hello {{ username }},\n\n"
            "The password of your {{ site_name }} account was changed on {{ requested_at }} "
            "from IP address {{ ip }} using {{ browser }}.\n\n"
            "If this was you, there is nothing to do. Every other device logged in to your "
            "account has been logged out.\n\n"
            "If this wasn't you, reset your password right away with the link below, and "
            "check the email address on your account.\n\n"
            "[button]"
        ),
        "button": "Reset your password",
    },
    "password_reset_unknown": {
        "subject": "Password reset requested for an address without an account",
        "body": (
            "Hello,\n\n"
            "Someone asked to reset the password of a {{ site_name }} account for {{ email }}, "
            "but no account uses this address.\n\n"
            "The request was made on {{ requested_at }} from IP address {{ ip }} using "
            "{{ browser }}.\n\n"
            "If you have an account with another address, ask for the reset again with that "
            "address. If this wasn't you, ignore this email."
        ),
        "button": "",
    },
}

MARKETING_PERMISSIONS = [
    "view_emailcopy",
    "change_emailcopy",
    "view_historicalemailcopy",
]


def copy_create(apps, schema_editor):
    EmailCopy = apps.get_model("auth_flow", "EmailCopy")
    for name, fields in COPY.items():
        EmailCopy.objects.get_or_create(name=name, defaults=fields)


def marketing_group_create(apps, schema_editor):
    # Permissions are normally created after all migrations ran; this group needs them now.
    app_config = apps.get_app_config("auth_flow")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Marketing")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="auth_flow", codename__in=MARKETING_PERMISSIONS
        )
    )


def marketing_group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Marketing").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0003_email_copy"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(copy_create, migrations.RunPython.noop),
        migrations.RunPython(marketing_group_create, marketing_group_delete),
    ]
