"""Give the two sign-up emails their shipped copy (frozen here, as in 0004)."""

from django.db import migrations

COPY = {
    "email_verification": {
        "subject": "Confirm your email address for {{ site_name }}",
        "body": "Hello {{ username }},\n"
        "\n"
        "Someone created a {{ site_name }} account with this email "
        "address. If it was you, confirm the address with the button "
        "below to start using your account. The link works once and "
        "expires in {{ expires_in }} (at {{ expires_at }}).\n"
        "\n"
        "[button]\n"
        "\n"
        "The account was created on {{ requested_at }} from IP "
        "address {{ ip }} using {{ browser }}.\n"
        "\n"
        "If this wasn't you, ignore this email: the account stays "
        "inactive and nobody can use it.",
        "button": "Confirm my email address",
    },
    "signup_existing": {
        "subject": "Someone tried to sign up to {{ site_name }} with your address",
        "body": "Hello {{ username }},\n"
        "\n"
        "Someone tried to create a new {{ site_name }} account with this "
        "email address on {{ requested_at }} from IP address {{ ip }} "
        "using {{ browser }}. You already have an account, so nothing "
        "was created or changed.\n"
        "\n"
        "If it was you, log in with your username, {{ username }}, or "
        "with this email address. Forgot your password? Choose a new one "
        "with the button below.\n"
        "\n"
        "[button]\n"
        "\n"
        "If this wasn't you, ignore this email: your account is as it "
        "was.",
        "button": "Reset your password",
    },
}


def copy_create(apps, schema_editor):
    EmailCopy = apps.get_model("auth_flow", "EmailCopy")
    for name, fields in COPY.items():
        EmailCopy.objects.get_or_create(name=name, defaults=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0006_email_canonical_unique"),
    ]

    operations = [
        migrations.RunPython(copy_create, migrations.RunPython.noop),
    ]
