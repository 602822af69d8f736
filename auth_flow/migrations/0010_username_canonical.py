"""Usernames get a canonical spelling, unique like addresses; queued tasks follow the move.

Existing accounts get theirs filled in, the older account keeping a spelling two share
(the newer keeps NULL and logs in as before). Tasks queued before the code moved into
auth_flow/mail/ (issue 16) name their function by its old path; they are pointed at
the new one, so no email in flight is lost at deploy.
"""

import unicodedata

from django.db import migrations, models

MOVED_TASKS = "auth_flow.tasks."


def usernames_canonical_fill(apps, schema_editor):
    User = apps.get_model("auth_flow", "User")
    taken = set()
    for user in User.objects.order_by("pk").only("pk", "username"):
        canonical = unicodedata.normalize("NFKC", user.username.strip()).casefold() or None
        if canonical and canonical not in taken:
            taken.add(canonical)
            User.objects.filter(pk=user.pk).update(username_canonical=canonical)


def queued_tasks_follow_the_move(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for result in DBTaskResult.objects.filter(task_path__startswith=MOVED_TASKS):
        result.task_path = "auth_flow.mail.tasks." + result.task_path.removeprefix(MOVED_TASKS)
        result.save(update_fields=["task_path"])


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0009_pending_signup"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_canonical",
            field=models.CharField(editable=False, max_length=150, null=True),
        ),
        migrations.RunPython(usernames_canonical_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_canonical",
            field=models.CharField(editable=False, max_length=150, null=True, unique=True),
        ),
        migrations.RunPython(queued_tasks_follow_the_move, migrations.RunPython.noop),
    ]
