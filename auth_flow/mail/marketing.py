"""The Marketing role: staff who edit email copy and its history, and nothing else."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from auth_flow.models import User

MARKETING_GROUP = "Marketing"
# Writers and approvers apart: writers draft, the Marketing group also publishes.
WRITERS_GROUP = "Email writers"
# Viewing copy and its versions, and writing drafts (a revert is a draft too).
WRITER_PERMISSIONS = ("view_emailcopy", "change_emailcopy", "view_historicalemailcopy")
MARKETING_PERMISSIONS = (*WRITER_PERMISSIONS, "publish_emailcopy")
# Each group and exactly its permissions, given back on every migrate: a permission added
# to a group by hand (say, change_user) does not survive a deploy.
GROUPS = {MARKETING_GROUP: MARKETING_PERMISSIONS, WRITERS_GROUP: WRITER_PERMISSIONS}


def marketing_group_ensure(*, using: str = "default", writer: bool = False) -> Group:
    """Create both email groups, or give them back exactly their permissions; return one."""
    # post_migrate may run this before Django has made this app's permissions.
    create_permissions(apps.get_app_config("auth_flow"), verbosity=0, using=using)
    groups = {}
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(
            Permission.objects.using(using).filter(
                content_type__app_label="auth_flow", codename__in=codenames
            )
        )
        groups[name] = group
    return groups[WRITERS_GROUP if writer else MARKETING_GROUP]


def marketing_user_create(
    *, username: str, email: str, password: str, writer: bool = False
) -> User:
    """Create, or update, a staff account that can edit email copy and nothing else.

    A writer drafts; only the Marketing group also publishes.
    """
    with transaction.atomic():
        group = marketing_group_ensure(writer=writer)
        user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
        user.email = User.objects.normalize_email(email)
        user.is_staff = True
        # Never a superuser: the group's permissions are all this account may use.
        user.is_superuser = False
        user.set_password(password)
        user.save()
        # One email role at a time: making a publisher a writer takes publishing away.
        user.groups.remove(*Group.objects.filter(name__in=GROUPS).exclude(pk=group.pk))
        user.groups.add(group)
    return user
