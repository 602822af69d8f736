"""Drafts and publishing of email copy: a live email only ever uses published words.

Every write here is a compare-and-set on the row's `version`: of two editors who loaded
the same version, the first write wins and the other is told, never overwritten. Only
publishing records a version in the history (simple_history, on `save()`); drafts and
discards are plain updates.
"""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from auth_flow.models import COPY_FIELDS, CopyPublication, EmailCopy, User

logger = logging.getLogger(__name__)
Kind = CopyPublication.Kind
PUBLISH_PERMISSION = "auth_flow.publish_emailcopy"


class EditConflict(Exception):
    """Someone wrote the copy after this editor loaded it."""


# Any change of the draft calls off its scheduled publishing: the approver scheduled
# the words they read, not whatever the draft holds later.
_UNSCHEDULED = {"publish_at": None, "publish_at_by": None}


def _draft_cleared() -> dict:
    return {
        "has_draft": False,
        **{f"draft_{field}": "" for field in COPY_FIELDS},
        "draft_kind": Kind.EDIT,
        "draft_note": "",
        "draft_by": None,
        "draft_at": None,
        **_UNSCHEDULED,
    }


def _draft_fields(*, words: dict[str, str], kind: str, note: str, user: User) -> dict:
    """Return the row's fields for a draft of these words, by this user, now."""
    return {
        "has_draft": True,
        **{f"draft_{field}": words.get(field, "") for field in COPY_FIELDS},
        "draft_kind": kind,
        "draft_note": note,
        "draft_by": user,
        "draft_at": timezone.now(),
        **_UNSCHEDULED,
    }


def copy_draft_save(
    *,
    copy: EmailCopy,
    loaded_version: int,
    words: dict[str, str],
    user: User,
    kind: str = Kind.EDIT,
    note: str = "",
    schedule: dict | None = None,
) -> bool:
    """Save words as the draft; return False if they equal the published words (no draft).

    `schedule` (publish_at, publish_at_by, draft_note) goes in the same write. Raise
    EditConflict if the row changed since `loaded_version`.
    """
    current = EmailCopy.objects.get(pk=copy.pk)
    if current.version != loaded_version:
        raise EditConflict
    if words == current.words:
        fields = _draft_cleared()
    else:
        if kind == Kind.EDIT and current.has_draft and words == current.draft_words:
            # Saved again unchanged: still the revert or reset it was made as.
            kind, note = current.draft_kind, current.draft_note
        fields = _draft_fields(words=words, kind=kind, note=note, user=user) | (schedule or {})
    claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
        version=loaded_version + 1, **fields
    )
    if not claimed:
        raise EditConflict
    return fields["has_draft"]


def copy_publish_schedule(
    *,
    copy: EmailCopy,
    loaded_version: int,
    words: dict[str, str],
    user: User,
    at,
    note: str = "",
) -> bool:
    """Save words as the draft and have the worker publish them at `at`.

    Return False (nothing scheduled) if they equal the published words. The task carries
    the version this makes: a later change of the draft leaves it nothing to publish.
    """
    from auth_flow.mail import tasks

    noted = {"draft_note": note} if note else {}  # else a revert keeps its own note
    schedule = {"publish_at": at, "publish_at_by": user, **noted}
    if not copy_draft_save(
        copy=copy, loaded_version=loaded_version, words=words, user=user, schedule=schedule
    ):
        return False
    version = loaded_version + 1
    transaction.on_commit(
        lambda: tasks.copy_publish_scheduled.using(run_after=at).enqueue(
            pk=copy.pk, version=version
        )
    )
    return True


def copy_publish_due(*, pk: int, version: int) -> str:
    """Publish a scheduled draft if it is still the draft that was scheduled; say what."""
    copy = (
        EmailCopy.objects.filter(
            pk=pk, version=version, has_draft=True, publish_at__lte=timezone.now()
        )
        .select_related("publish_at_by")
        .first()
    )
    if copy is None:
        return "nothing to publish: the draft changed, was published or was discarded"
    approver = copy.publish_at_by
    # Published on the approver's authority at the time it happens, not at the time they
    # chose: someone who lost the right meanwhile publishes nothing.
    allowed = approver is not None and approver.is_active and approver.is_staff
    if not (allowed and approver.has_perm(PUBLISH_PERMISSION)):
        return _schedule_dropped(copy=copy, why="whoever scheduled it may no longer publish")
    # A deploy since may have changed what the email allows (placeholders, its button).
    if copy.kind is None or copy.kind.problems(**copy.draft_words):
        return _schedule_dropped(copy=copy, why="the draft no longer passes the copy rules")
    try:
        copy_publish(
            copy=copy,
            loaded_version=version,
            words=copy.draft_words,
            user=copy.publish_at_by,
            note=copy.draft_note,
        )
    except EditConflict:
        return "nothing to publish: the draft changed meanwhile"
    return f"published version {version + 1} of {copy.name} ({copy.language})"


def copy_publish(
    *, copy: EmailCopy, loaded_version: int, words: dict[str, str], user: User, note: str = ""
) -> EmailCopy:
    """Make words the live copy and record the version; raise EditConflict if stale."""
    with transaction.atomic():
        current = EmailCopy.objects.select_for_update().get(pk=copy.pk)
        claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
            version=loaded_version + 1
        )
        if not claimed or current.version != loaded_version:
            raise EditConflict
        kind = Kind.EDIT
        if current.has_draft and words == current.draft_words:
            kind, note = current.draft_kind, note or current.draft_note
        for field, value in {**words, **_draft_cleared()}.items():
            setattr(current, field, value)
        current.version = loaded_version + 1
        # Reset to the shipped words: follow the translations again as they change.
        current.edited = not (kind == Kind.RESET and words == copy_reset_words(copy=current))
        current._publish_kind, current._publish_note = kind, note
        current._history_user = user
        current.save()
        return current


def _schedule_dropped(*, copy: EmailCopy, why: str) -> str:
    """Call off a due schedule that may not publish, and say so in the log."""
    EmailCopy.objects.filter(pk=copy.pk, version=copy.version).update(**_UNSCHEDULED)
    logger.warning(
        "Scheduled publishing of the %s email (%s) called off: %s.", copy.name, copy.language, why
    )
    return f"nothing published: {why}"


def copy_draft_discard(*, copy: EmailCopy, loaded_version: int) -> None:
    """Throw the draft away, back to the published words; raise EditConflict if stale."""
    claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
        version=loaded_version + 1, **_draft_cleared()
    )
    if not claimed:
        raise EditConflict


def copy_draft_from(
    *,
    copy: EmailCopy,
    loaded_version: int,
    words: dict[str, str],
    kind: str,
    note: str,
    user: User,
) -> None:
    """Make a draft from chosen words (an old version, the shipped default), replacing any.

    Only over the draft the person saw when they chose (`loaded_version`): a draft someone
    saved meanwhile is not thrown away unseen (EditConflict). Bumps the version, so an
    editor with the old draft open is told before saving over this one.
    """
    fields = _draft_fields(words=words, kind=kind, note=note, user=user)
    claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
        version=F("version") + 1, **fields
    )
    if not claimed:
        raise EditConflict


def copy_is_shipped_default(*, copy: EmailCopy) -> bool:
    """Say whether an email already goes out in its shipped default, with no draft."""
    return not copy.has_draft and copy.words == copy_reset_words(copy=copy)


def copy_reset_words(*, copy: EmailCopy) -> dict[str, str]:
    """Return the shipped default words for a row's language (or the default language's)."""
    shipped = copy.kind.shipped(language=copy.language) or copy.kind.shipped_default()
    return {**shipped.words, "preheader": ""}
