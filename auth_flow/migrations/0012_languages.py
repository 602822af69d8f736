"""Languages: each account's chosen language and time zone, and email copy per language.

The existing copy rows are the English ones. A row whose words differ from the shipped
English copy was edited by marketing (`edited`); the others keep following the shipped
words. Rows for the other languages are made by post_migrate (auth_flow.apps).
"""

from django.db import migrations, models


def edited_mark(apps, schema_editor):
    from auth_flow.mail.catalog import EMAIL_KINDS

    EmailCopy = apps.get_model("auth_flow", "EmailCopy")
    for copy in EmailCopy.objects.all():
        kind = EMAIL_KINDS.get(copy.name)
        shipped = kind and (kind.subject, kind.body, kind.button)
        if shipped != (copy.subject, copy.body, copy.button):
            copy.edited = True
            copy.save(update_fields=["edited"])


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0011_button_wording"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="emailcopy",
            options={
                "ordering": ["name", "language"],
                "verbose_name": "email copy",
                "verbose_name_plural": "email copy",
            },
        ),
        migrations.AddField(
            model_name="emailcopy",
            name="edited",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="emailcopy",
            name="language",
            field=models.CharField(default="en", editable=False, max_length=15),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalemailcopy",
            name="language",
            field=models.CharField(default="en", editable=False, max_length=15),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="user",
            name="language",
            field=models.CharField(blank=True, default="", max_length=15, verbose_name="language"),
        ),
        migrations.AddField(
            model_name="user",
            name="time_zone",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="time zone"
            ),
        ),
        migrations.AlterField(
            model_name="emailcopy",
            name="name",
            field=models.CharField(editable=False, max_length=100),
        ),
        migrations.AlterField(
            model_name="historicalemailcopy",
            name="name",
            field=models.CharField(editable=False, max_length=100),
        ),
        migrations.AlterField(
            model_name="emailcopy",
            name="subject",
            field=models.CharField(max_length=500, verbose_name="subject"),
        ),
        migrations.AlterField(
            model_name="emailcopy",
            name="body",
            field=models.TextField(verbose_name="body"),
        ),
        migrations.AlterField(
            model_name="historicalemailcopy",
            name="subject",
            field=models.CharField(max_length=500, verbose_name="subject"),
        ),
        migrations.AlterField(
            model_name="historicalemailcopy",
            name="body",
            field=models.TextField(verbose_name="body"),
        ),
        migrations.AddConstraint(
            model_name="emailcopy",
            constraint=models.UniqueConstraint(
                fields=("name", "language"), name="email_copy_per_language"
            ),
        ),
        migrations.RunPython(edited_mark, migrations.RunPython.noop),
    ]
