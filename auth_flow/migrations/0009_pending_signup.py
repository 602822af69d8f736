"""Sign-ups wait in PendingSignup until confirmed; accounts record when their address was.

Every account that exists now counts as confirmed (since it joined): staff, scripts
and sign-ups confirmed before this made them. The confirmation email loses
{{ username }}: it goes to an unconfirmed address, so it carries nothing the person who
signed up typed (stored copy that used it gets the new shipped copy).
"""

import auth_flow.models
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F

VERIFICATION = {
    "subject": "Confirm your email address for {{ site_name }}",
    "body": "Hello,\n"
    "\n"
    "Someone signed up to {{ site_name }} with this email address. If it was you, "
    "confirm the address with the button below and enter the password you chose. The "
    "link works once and expires in {{ expires_in }} (at {{ expires_at }}).\n"
    "\n"
    "[button]\n"
    "\n"
    "The sign-up was made on {{ requested_at }} from IP address {{ ip }} using "
    "{{ browser }}.\n"
    "\n"
    "If this wasn't you, ignore this email: no account is created without this link "
    "and the password chosen at sign-up.",
    "button": "Confirm my email address",
}


def accounts_confirmed(apps, schema_editor):
    User = apps.get_model("auth_flow", "User")
    User.objects.update(email_confirmed_at=F("date_joined"))


def verification_copy_without_username(apps, schema_editor):
    EmailCopy = apps.get_model("auth_flow", "EmailCopy")
    for copy in EmailCopy.objects.filter(name="email_verification"):
        if any("username" in getattr(copy, field) for field in ("subject", "body", "button")):
            for field, value in VERIFICATION.items():
                setattr(copy, field, value)
            copy.version += 1
            copy.save()


class Migration(migrations.Migration):

    dependencies = [
        ('auth_flow', '0008_rate_window'),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingSignup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('username', models.CharField(max_length=150)),
                ('email', models.EmailField(max_length=254)),
                ('email_canonical', models.CharField(db_index=True, max_length=254)),
                ('password', models.CharField(max_length=128)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['created_at'],
            },
        ),
        migrations.AlterModelManagers(
            name='user',
            managers=[
                ('objects', auth_flow.models.AccountManager()),
            ],
        ),
        migrations.AddField(
            model_name='user',
            name='email_confirmed_at',
            field=models.DateTimeField(blank=True, default=django.utils.timezone.now, null=True),
        ),
        migrations.RunPython(accounts_confirmed, migrations.RunPython.noop),
        migrations.RunPython(verification_copy_without_username, migrations.RunPython.noop),
    ]
