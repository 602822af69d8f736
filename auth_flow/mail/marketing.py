"""The Marketing role: staff who edit email copy and its history, and nothing else."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from auth_flow.models import User

MARKETING_GROUP = "Marketing"
# Viewing copy and its versions, writing drafts (a revert is a draft too) and publishing
# them. A team that splits writers from approvers takes publish_emailcopy from writers.
MARKETING_PERMISSIONS = (
    "view_emailcopy",
    "change_emailcopy",
    "publish_emailcopy",
    "view_historicalemailcopy",
)


def marketing_group_ensure(*, using: str = "default") -> Group:
    """Create the Marketing group, or give it back exactly its permissions."""
    # post_migrate may run this before Django has made this app's permissions.
    create_permissions(apps.get_app_config("auth_flow"), verbosity=0, using=using)
    group, _ = Group.objects.using(using).get_or_create(name=MARKETING_GROUP)
    group.permissions.set(
        Permission.objects.using(using).filter(
            content_type__app_label="auth_flow", codename__in=MARKETING_PERMISSIONS
        )
    )
    return group


def marketing_user_create(*, username: str, email: str, password: str) -> User:
    """Create, or update, a staff account that can edit email copy and nothing else."""
    with transaction.atomic():
        group = marketing_group_ensure()
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.email = User.objects.normalize_email(email)
        user.is_staff = True
        # Never a superuser: the group's permissions are all this account may use.
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.add(group)
    return user
