"""Drafts and publishing of email copy: a live email only ever uses published words.

Every write here is a compare-and-set on the row's `version`: of two editors who loaded
the same version, the first write wins and the other is told, never overwritten. Only
publishing records a version in the history (simple_history, on `save()`); drafts and
discards are plain updates.
"""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from auth_flow.models import COPY_FIELDS, CopyPublication, EmailCopy, User

Kind = CopyPublication.Kind


class EditConflict(Exception):
    """Someone wrote the copy after this editor loaded it."""


def _draft_cleared() -> dict:
    return {
        "has_draft": False,
        **{f"draft_{field}": "" for field in COPY_FIELDS},
        "draft_kind": Kind.EDIT,
        "draft_note": "",
        "draft_by": None,
        "draft_at": None,
    }


def copy_draft_save(
    *,
    copy: EmailCopy,
    loaded_version: int,
    words: dict[str, str],
    user: User,
    kind: str = Kind.EDIT,
    note: str = "",
) -> bool:
    """Save words as the draft; return False if they equal the published words (no draft).

    Raise EditConflict if the row changed since `loaded_version`.
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
        fields = {
            "has_draft": True,
            **{f"draft_{field}": value for field, value in words.items()},
            "draft_kind": kind,
            "draft_note": note,
            "draft_by": user,
            "draft_at": timezone.now(),
        }
    claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
        version=loaded_version + 1, **fields
    )
    if not claimed:
        raise EditConflict
    return fields["has_draft"]


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


def shipped_words(shipped) -> dict[str, str]:
    """Return a shipped copy's words, by field."""
    return {"subject": shipped.subject, "body": shipped.body, "button": shipped.button}


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
    fields = {
        "has_draft": True,
        **{f"draft_{field}": words.get(field, "") for field in COPY_FIELDS},
        "draft_kind": kind,
        "draft_note": note,
        "draft_by": user,
        "draft_at": timezone.now(),
    }
    claimed = EmailCopy.objects.filter(pk=copy.pk, version=loaded_version).update(
        version=F("version") + 1, **fields
    )
    if not claimed:
        raise EditConflict


def copy_reset_words(*, copy: EmailCopy) -> dict[str, str]:
    """Return the shipped default words for a row's language (or the default language's)."""
    shipped = copy.kind.shipped(language=copy.language) or copy.kind.shipped_default()
    return {**shipped_words(shipped), "preheader": ""}
