# A migration of its own: on PostgreSQL the rows 0005 updated leave trigger events that
# would refuse this ALTER TABLE in the same transaction.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth_flow", "0005_email_canonical"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email_canonical",
            field=models.CharField(editable=False, max_length=254, null=True, unique=True),
        ),
        migrations.RemoveConstraint(
            model_name="user",
            name="user_email_ci_unique",
        ),
    ]
