"""Marketing drafts, publishes, reverts and resets email copy, and reads its history."""

import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from auth_flow.apps import email_copy_defaults_ensure
from auth_flow.mail.catalog import PASSWORD_RESET
from auth_flow.models import EmailCopy, User
from auth_flow.tests.test_admin_email_copy import NEW_BODY, change_url, form_data

LIVE_SUBJECT = PASSWORD_RESET.subject
SENT_SUBJECT = LIVE_SUBJECT.replace("{{ site_name }}", "Passage")


@pytest.fixture
def client_class() -> type[Client]:
    return Client


@pytest.fixture
def reset_copy(db) -> EmailCopy:
    """The reset email's copy with its history starting at the shipped default."""
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    copy.history.all().delete()
    email_copy_defaults_ensure()
    return copy


def reset_email(client, mailoutbox, user):
    mailoutbox.clear()
    client.post(reverse("password_reset"), {"email": user.email})
    (message,) = mailoutbox
    return message


def writer(marketing_user: User, client_class, username: str = "wes") -> tuple[User, object]:
    """A staff member who may write drafts but not publish them."""
    person = User.objects.create_user(username, f"{username}@example.com", "x", is_staff=True)
    person.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_emailcopy", "change_emailcopy", "view_historicalemailcopy"]
        )
    )
    client = client_class()
    client.force_login(person)
    return person, client


# Drafts never reach a live email ----------------------------------------------------


def test_saving_makes_a_draft_and_live_emails_keep_the_published_text(
    marketing_client, reset_copy, client, user, mailoutbox
):
    saved = marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Draft subject", body=NEW_BODY)
    )

    assert saved.status_code == HTTPStatus.FOUND
    assert saved["Location"] == change_url(reset_copy)  # back to the editor to review
    editor = marketing_client.get(change_url(reset_copy)).content.decode()
    assert "Draft saved. Live emails still use the published text" in editor
    assert 'value="Draft subject"' in editor  # the editor continues the draft
    assert "Draft by mia" in editor
    assert reset_email(client, mailoutbox, user).subject == SENT_SUBJECT
    assert list(reset_copy.history.values_list("publish_kind", flat=True)) == ["shipped"]


def test_a_draft_never_reaches_an_email_sent_by_the_worker(
    transactional_db, marketing_client, settings, client, mailoutbox
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    person = User.objects.create_user("ada", "ada@example.com", "x")
    marketing_client.post(change_url(copy), form_data(copy, subject="Not yet"))

    client.post(reverse("password_reset"), {"email": person.email})
    run_worker()

    assert [m.subject for m in mailoutbox] == [SENT_SUBJECT]


def test_publishing_makes_the_text_live_and_records_who_and_why(
    marketing_client, reset_copy, client, user, mailoutbox
):
    marketing_client.post(change_url(reset_copy), form_data(reset_copy, subject="New words"))
    published = marketing_client.post(
        change_url(reset_copy),
        form_data(reset_copy, subject="New words", publish=True, publish_note="Friendlier"),
    )

    assert published.status_code == HTTPStatus.FOUND
    page = marketing_client.get(change_url(reset_copy)).content.decode()
    assert "Published. From now on every" in page
    assert reset_email(client, mailoutbox, user).subject == "New words"
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft
    latest = reset_copy.history.latest()
    assert (latest.publish_kind, latest.publish_note) == ("edit", "Friendlier")
    assert latest.history_user.username == "mia"


def test_saving_the_published_text_again_leaves_no_draft(marketing_client, reset_copy):
    marketing_client.post(change_url(reset_copy), form_data(reset_copy))

    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft
    assert "no draft" in marketing_client.get(change_url(reset_copy)).content.decode()


def test_discarding_returns_the_editor_to_the_published_text(marketing_client, reset_copy):
    marketing_client.post(change_url(reset_copy), form_data(reset_copy, subject="Oops"))

    discarded = marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Oops", _discard="Discard")
    )

    assert discarded.status_code == HTTPStatus.FOUND
    page = marketing_client.get(change_url(reset_copy)).content.decode()
    assert "Draft discarded." in page
    assert 'value="Oops"' not in page
    assert f'value="{LIVE_SUBJECT}"' in page
    reset_copy.refresh_from_db()
    assert (reset_copy.has_draft, reset_copy.subject) == (False, LIVE_SUBJECT)


def test_a_stale_discard_keeps_the_newer_draft(marketing_client, reset_copy):
    stale = form_data(reset_copy, _discard="Discard")
    marketing_client.post(change_url(reset_copy), form_data(reset_copy, subject="Newer"))

    marketing_client.post(change_url(reset_copy), stale)

    reset_copy.refresh_from_db()
    assert reset_copy.draft_subject == "Newer"


# The publish permission --------------------------------------------------------------


def test_the_marketing_group_may_publish(marketing_user):
    assert marketing_user.has_perm("auth_flow.publish_emailcopy")


def test_a_writer_without_the_publish_permission_cannot_publish(
    marketing_user, reset_copy, client_class
):
    _wes, wes = writer(marketing_user, client_class)

    editor = wes.get(change_url(reset_copy)).content.decode()
    assert 'name="_continue"' in editor
    assert 'name="_publish"' not in editor
    drafted = wes.post(change_url(reset_copy), form_data(reset_copy, subject="Mine"))
    assert drafted.status_code == HTTPStatus.FOUND
    assert "until someone who may publish" in wes.get(change_url(reset_copy)).content.decode()

    forced = wes.post(change_url(reset_copy), form_data(reset_copy, subject="Mine", publish=True))

    assert forced.status_code == HTTPStatus.FORBIDDEN
    reset_copy.refresh_from_db()
    assert reset_copy.subject == LIVE_SUBJECT
    assert reset_copy.draft_subject == "Mine"


# History, revert and reset -----------------------------------------------------------


def test_the_shipped_default_is_version_1(marketing_client, reset_copy):
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Edited", publish=True)
    )

    history = marketing_client.get(
        reverse("admin:auth_flow_emailcopy_history", args=[reset_copy.pk])
    ).content.decode()

    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", history, re.S)
    assert len(rows) == 2
    assert re.search(r"Version 2.*\(live\).*<td>Edit</td>", rows[0], re.S)
    assert re.search(r"Version 1.*<td>Shipped default</td>", rows[1], re.S)
    assert "Shipped with the site" in rows[1]
    assert re.search(r"\d{1,2} \w{3} 20\d\d, \d\d:\d\d UTC", rows[0])  # one format, with zone
    assert "/admin/auth_flow/user/" not in history  # names are not links to pages they can't open


def test_reverting_to_version_1_is_a_draft_then_a_revert_version(
    marketing_client, reset_copy, client, user, mailoutbox
):
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Edited", publish=True)
    )
    first = reset_copy.history.earliest()
    version_url = reverse(
        "admin:auth_flow_emailcopy_simple_history", args=[reset_copy.pk, first.history_id]
    )

    page = marketing_client.get(version_url).content.decode()
    assert "The shipped default" in page
    assert f"\u2212 {LIVE_SUBJECT}" in page  # from this version to the live text
    assert "+ Edited" in page
    reset_copy.refresh_from_db()
    drafted = marketing_client.post(version_url, {"loaded_version": reset_copy.version})

    assert drafted.status_code == HTTPStatus.FOUND
    assert reset_email(client, mailoutbox, user).subject == "Edited"  # still live
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, publish=True) | {"subject": LIVE_SUBJECT}
    )
    assert reset_email(client, mailoutbox, user).subject == SENT_SUBJECT
    latest = reset_copy.history.latest()
    assert (latest.publish_kind, latest.publish_note) == ("revert", "Back to version 1")


def test_reset_to_default_asks_first_then_makes_a_draft(marketing_client, reset_copy):
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Edited", publish=True)
    )
    changelist = reverse("admin:auth_flow_emailcopy_changelist")
    chosen = {"action": "reset_to_default", "_selected_action": [reset_copy.pk]}

    asked = marketing_client.post(changelist, chosen)

    assert asked.status_code == HTTPStatus.OK
    assert "Start again from the shipped default?" in asked.content.decode()
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft

    marketing_client.post(
        changelist, {**chosen, "confirmed": "yes", f"version_{reset_copy.pk}": reset_copy.version}
    )

    reset_copy.refresh_from_db()
    assert reset_copy.subject == "Edited"  # live until published
    assert (reset_copy.draft_subject, reset_copy.draft_kind) == (LIVE_SUBJECT, "reset")
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, publish=True) | {"subject": LIVE_SUBJECT}
    )
    reset_copy.refresh_from_db()
    assert reset_copy.subject == LIVE_SUBJECT
    assert not reset_copy.edited  # follows the shipped words again
    assert reset_copy.history.latest().publish_kind == "reset"


def test_one_email_resets_from_its_editor_after_confirming(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_reset", args=[reset_copy.pk])
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Edited", publish=True)
    )

    assert "Yes, start from the shipped default" in marketing_client.get(url).content.decode()
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft
    confirmed = {"loaded_version": reset_copy.version}
    assert marketing_client.post(
        url, confirmed | {f"version_{reset_copy.pk}": reset_copy.version}
    )["Location"] == change_url(reset_copy)
    reset_copy.refresh_from_db()
    assert reset_copy.has_draft
    assert reset_copy.draft_subject == LIVE_SUBJECT


def test_two_versions_compare_field_by_field_in_full(marketing_client, reset_copy):
    long_line = "A sentence that is long enough to be cut off by the old history view. " * 3
    marketing_client.post(
        change_url(reset_copy),
        form_data(reset_copy, body=NEW_BODY + "\n\n" + long_line.strip(), publish=True),
    )
    history_url = reverse("admin:auth_flow_emailcopy_history", args=[reset_copy.pk])

    page = marketing_client.get(history_url, {"from": 1, "to": 2}).content.decode()

    assert "+ " + long_line.strip() in page
    assert "[" not in re.sub(r"\[button\]", "", page.split("compare-heading")[1])
    assert "Forgot it? It happens." in page
    bad = marketing_client.get(history_url, {"from": "x", "to": 99})
    assert bad.status_code == HTTPStatus.OK  # a bad choice falls back, never a 500


def test_a_viewer_sees_history_but_cannot_make_a_draft(marketing_user, reset_copy, client):
    viewer = User.objects.create_user("vic", "vic@example.com", "x", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_emailcopy", "view_historicalemailcopy"])
    )
    client.force_login(viewer)
    first = reset_copy.history.earliest()
    url = reverse(
        "admin:auth_flow_emailcopy_simple_history", args=[reset_copy.pk, first.history_id]
    )

    assert client.get(url).status_code == HTTPStatus.OK
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft


# Test sends --------------------------------------------------------------------------


def test_a_test_goes_to_a_chosen_colleague(
    marketing_client, marketing_user, reset_copy, mailoutbox
):
    colleague, _ = writer(marketing_user, type(marketing_client), username="cole")
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    editor = marketing_client.get(change_url(reset_copy)).content.decode()
    assert "cole (cole@example.com)" in editor
    assert "root (root@example.com)" in editor
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    for person in (colleague, admin):
        sent = marketing_client.post(url, form_data(reset_copy) | {"test_to": person.pk})
        assert sent.status_code == HTTPStatus.OK
        assert f"Test queued to {person.email}" in sent.content.decode()

    assert [m.to for m in mailoutbox] == [["cole@example.com"], ["root@example.com"]]


@pytest.mark.parametrize(
    "who",
    [
        {"is_staff": False},  # a customer
        {"is_staff": True},  # staff who cannot see the emails
        {"is_staff": True, "is_active": False, "is_superuser": True},  # a former admin
    ],
)
def test_a_test_never_goes_to_anyone_else(marketing_client, reset_copy, mailoutbox, who):
    person = User.objects.create_user("out", "out@example.com", "x", **who)
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    for to in (person.pk, "out@example.com", "", "999999"):
        refused = marketing_client.post(url, form_data(reset_copy) | {"test_to": to})
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_CONTENT
        assert "Choose someone from the list" in refused.content.decode()
    assert mailoutbox == []


def test_a_test_emails_button_opens_a_page_that_explains(client, db):
    page = client.get(reverse("email_link_sample"))

    assert page.status_code == HTTPStatus.OK
    assert "In a real email, the button takes the person" in page.content.decode()


# Two editors at once -----------------------------------------------------------------


def test_each_editor_sees_who_else_has_the_email_open(marketing_user, reset_copy, client_class):
    url = reverse("admin:auth_flow_emailcopy_editing", args=[reset_copy.pk])
    mia = client_class()
    mia.force_login(marketing_user)
    _alex, alex = writer(marketing_user, client_class, username="alex")

    assert "also editing" not in mia.post(url).content.decode()  # alone so far
    assert "mia is also editing this email" in alex.post(url).content.decode()
    assert "alex is also editing this email" in mia.post(url).content.decode()
    assert mia.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# The inbox's preview text ------------------------------------------------------------


def test_the_preview_text_is_hidden_in_the_email_and_shown_in_the_inbox(
    marketing_client, reset_copy, client, user, mailoutbox
):
    marketing_client.post(
        change_url(reset_copy),
        form_data(reset_copy, preheader="A new password for {{ username }}", publish=True),
    )

    message = reset_email(client, mailoutbox, user)
    html = message.alternatives[0].content
    hidden = html.split("<body", 1)[1].split("</div>", 1)[0]
    assert "display:none" in hidden
    assert "A new password for alice" in hidden
    assert "A new password for" not in message.body  # the text part starts with the copy


@pytest.mark.parametrize(
    ("preheader", "message"),
    [
        ("x" * 151, "The preview text has 151 characters; keep it to 150."),
        ("two\nlines", "The preview text must be one line."),
        ("{{ user.password }}", "is not one of this email&#x27;s placeholders"),
        ("Go to https://evil.example/", "Remove “https://evil.example/”"),
    ],
)
def test_a_bad_preview_text_is_refused(marketing_client, reset_copy, preheader, message):
    response = marketing_client.post(
        change_url(reset_copy), form_data(reset_copy) | {"preheader": preheader}
    )

    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft


# What the attacker's review found ---------------------------------------------------


def test_a_revert_never_replaces_a_draft_saved_after_the_page_was_shown(
    marketing_client, marketing_user, reset_copy, client_class
):
    first = reset_copy.history.earliest()
    version_url = reverse(
        "admin:auth_flow_emailcopy_simple_history", args=[reset_copy.pk, first.history_id]
    )
    shown = {"loaded_version": EmailCopy.objects.get(pk=reset_copy.pk).version}
    _wes, wes = writer(marketing_user, client_class)
    wes.post(change_url(reset_copy), form_data(reset_copy, subject="Wes's long draft"))

    answer = marketing_client.post(version_url, shown)

    assert answer.status_code == HTTPStatus.FOUND
    assert "changed while you were deciding" in marketing_client.get(version_url).content.decode()
    reset_copy.refresh_from_db()
    assert reset_copy.draft_subject == "Wes's long draft"
    # Seen now: the page names the draft it would replace.
    assert "Draft by wes" in marketing_client.get(version_url).content.decode()


def test_a_reset_never_replaces_a_draft_saved_after_the_confirmation(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_reset", args=[reset_copy.pk])
    shown = {f"version_{reset_copy.pk}": EmailCopy.objects.get(pk=reset_copy.pk).version}
    marketing_client.post(change_url(reset_copy), form_data(reset_copy, subject="Newer"))

    answer = marketing_client.post(url, shown)

    assert answer.status_code == HTTPStatus.OK  # asked again
    assert "changed while you were deciding" in answer.content.decode()
    reset_copy.refresh_from_db()
    assert reset_copy.draft_subject == "Newer"


def test_writers_draft_and_the_marketing_group_publishes_after_every_migrate(db):
    from django.contrib.auth.models import Group

    from auth_flow.mail.marketing import marketing_user_create

    wes = marketing_user_create(username="wes", email="w@example.com", password="x", writer=True)
    writers = Group.objects.get(name="Email writers")
    writers.permissions.add(Permission.objects.get(codename="publish_emailcopy"))  # by hand
    email_copy_defaults_ensure()  # as every migrate does

    wes = User.objects.get(pk=wes.pk)
    assert wes.has_perm("auth_flow.change_emailcopy")
    assert not wes.has_perm("auth_flow.publish_emailcopy")
    marketing = Group.objects.get(name="Marketing")
    assert marketing.permissions.filter(codename="publish_emailcopy").exists()
    # Made a publisher: one email role at a time.
    wes = marketing_user_create(username="wes", email="w@example.com", password="x")
    assert list(wes.groups.values_list("name", flat=True)) == ["Marketing"]


def test_staff_who_may_only_read_an_email_see_no_colleagues_addresses(reset_copy, client):
    User.objects.create_superuser("root", "root-secret@example.com", "x")
    viewer = User.objects.create_user("vic", "vic@example.com", "x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_emailcopy"))
    client.force_login(viewer)

    page = client.get(change_url(reset_copy)).content.decode()

    assert "root-secret@example.com" not in page
    assert "Send the test" not in page
    assert reverse("admin:auth_flow_emailcopy_editing", args=[reset_copy.pk]) not in page
    assert "You may read this email." in page


def test_the_dark_preview_switches_only_the_layouts_style_sheet(marketing_client, reset_copy):
    marker = "@media (prefers-color-scheme: dark)"
    preview = reverse("admin:auth_flow_emailcopy_preview", args=[reset_copy.pk])
    page = marketing_client.post(preview, form_data(reset_copy, subject=marker)).content.decode()
    frame_url = page.split('<iframe src="')[1].split('"')[0].replace("&amp;", "&")

    dark = marketing_client.get(frame_url.split("&scheme=")[0] + "&scheme=dark").content.decode()

    assert f"<title>{marker}</title>" in dark  # the copy, as typed
    assert "@media all" in dark.split("<style>", 1)[1]


def test_a_long_publish_note_is_refused_where_it_is_typed(marketing_client, reset_copy):
    answer = marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, publish=True, publish_note="x" * 201)
    )

    assert "at most 200 characters" in answer.content.decode()
    reset_copy.refresh_from_db()
    assert reset_copy.history.count() == 1


def test_an_email_that_went_is_not_failed_by_its_count(client, user, mailoutbox, monkeypatch):
    from django.db import OperationalError

    from auth_flow.models import SentEmail

    def broken(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(SentEmail.objects, "create", broken)

    client.post(reverse("password_reset"), {"email": user.email})

    assert len(mailoutbox) == 1


def test_old_sent_email_counts_are_pruned(db):
    from datetime import timedelta

    from django.utils import timezone

    from auth_flow.mail.tasks import sent_emails_prune
    from auth_flow.models import SentEmail

    old = timezone.now() - timedelta(days=36)
    SentEmail.objects.create(name="password_reset", language="en", sent_at=old)
    kept = SentEmail.objects.create(name="password_reset", language="en")

    assert sent_emails_prune() == 1
    assert list(SentEmail.objects.all()) == [kept]


# Publishing at a chosen time -------------------------------------------------------


@pytest.fixture
def queue(settings):
    """The database queue, which runs tasks later, as in production."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def in_minutes(minutes: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def scheduled(copy: EmailCopy, **changes) -> dict:
    return form_data(copy, **changes) | {"_schedule": "Schedule", "publish_at": in_minutes(30)}


def due_now(copy: EmailCopy) -> None:
    """Let the chosen time come (the queue's run_after, and the row's publish_at)."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    past = timezone.now() - timedelta(seconds=1)
    EmailCopy.objects.filter(pk=copy.pk, publish_at__isnull=False).update(publish_at=past)
    DBTaskResult.objects.update(run_after=past)


def test_a_scheduled_draft_is_published_by_the_worker_at_its_time(
    transactional_db, marketing_client, queue, client, mailoutbox
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    person = User.objects.create_user("ada", "ada@example.com", "x")
    answer = marketing_client.post(
        change_url(copy), scheduled(copy, subject="At nine", publish_note="Launch")
    )
    assert answer.status_code == HTTPStatus.FOUND
    page = marketing_client.get(change_url(copy)).content.decode()
    assert "Scheduled: the draft will be published at" in page
    assert "to be published at" in page

    client.post(reverse("password_reset"), {"email": person.email})
    run_worker()  # the reset email goes; the publishing is not due yet
    assert [m.subject for m in mailoutbox] == [SENT_SUBJECT]

    due_now(copy)
    run_worker()
    client.post(reverse("password_reset"), {"email": person.email})
    run_worker()
    assert mailoutbox[-1].subject == "At nine"
    latest = copy.history.latest()
    assert (latest.history_user.username, latest.publish_note) == ("mia", "Launch")
    copy.refresh_from_db()
    assert (copy.has_draft, copy.publish_at) == (False, None)


def test_changing_a_scheduled_draft_calls_the_schedule_off(
    transactional_db, marketing_client, queue
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    marketing_client.post(change_url(copy), scheduled(copy, subject="Reviewed words"))
    marketing_client.post(change_url(copy), form_data(copy, subject="Unreviewed words"))

    due_now(copy)
    run_worker()

    copy.refresh_from_db()
    assert copy.subject == LIVE_SUBJECT  # nothing published
    assert (copy.draft_subject, copy.publish_at) == ("Unreviewed words", None)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("", "Choose when to publish the draft."),
        ("2020-01-01T09:00", "Choose a time at least a minute from now."),
        ("not a time", "Enter a valid date/time."),
        ("2999-01-01T09:00", "Choose a time within a year."),
    ],
)
def test_a_bad_time_is_refused(marketing_client, reset_copy, queue, when, message):
    answer = marketing_client.post(
        change_url(reset_copy), scheduled(reset_copy, subject="x") | {"publish_at": when}
    )

    assert answer.status_code == HTTPStatus.OK
    assert message in answer.content.decode()
    reset_copy.refresh_from_db()
    assert not reset_copy.has_draft


def test_a_writer_cannot_schedule(marketing_user, reset_copy, client_class, queue):
    _wes, wes = writer(marketing_user, client_class)

    assert 'name="_schedule"' not in wes.get(change_url(reset_copy)).content.decode()
    forced = wes.post(change_url(reset_copy), scheduled(reset_copy, subject="Mine"))

    assert forced.status_code == HTTPStatus.FORBIDDEN
    reset_copy.refresh_from_db()
    assert reset_copy.publish_at is None


def test_without_a_queue_that_can_wait_there_is_no_scheduling(marketing_client, reset_copy):
    # The in-process backend would run the task at once, not at the time chosen.
    assert 'name="_schedule"' not in marketing_client.get(change_url(reset_copy)).content.decode()


def test_a_schedule_whose_approver_lost_the_right_publishes_nothing(
    transactional_db, marketing_client, marketing_user, queue
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    marketing_client.post(change_url(copy), scheduled(copy, subject="Approved once"))
    marketing_user.groups.clear()  # left the team before the time came

    due_now(copy)
    run_worker()

    copy.refresh_from_db()
    assert copy.subject == LIVE_SUBJECT
    assert (copy.draft_subject, copy.publish_at) == ("Approved once", None)


def test_a_revert_or_reset_after_scheduling_calls_the_schedule_off(
    transactional_db, marketing_client, queue
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    marketing_client.post(change_url(copy), scheduled(copy, subject="Approved"))
    first = copy.history.earliest()
    version_url = reverse(
        "admin:auth_flow_emailcopy_simple_history", args=[copy.pk, first.history_id]
    )
    marketing_client.post(
        version_url, {"loaded_version": EmailCopy.objects.get(pk=copy.pk).version}
    )

    copy.refresh_from_db()
    assert (copy.draft_kind, copy.publish_at) == ("revert", None)
    assert "to be published at" not in marketing_client.get(change_url(copy)).content.decode()
    due_now(copy)
    run_worker()
    copy.refresh_from_db()
    assert copy.subject == LIVE_SUBJECT


def test_saving_over_a_schedule_says_it_called_it_off(marketing_client, reset_copy, queue):
    marketing_client.post(change_url(reset_copy), scheduled(reset_copy, subject="Approved"))

    marketing_client.post(change_url(reset_copy), form_data(reset_copy, subject="Changed"))

    page = marketing_client.get(change_url(reset_copy)).content.decode()
    assert "This called off the publishing that was scheduled for" in page


def test_an_approver_no_longer_staff_publishes_nothing(
    transactional_db, marketing_client, marketing_user, queue, caplog
):
    from auth_flow.tests.test_tasks import run_worker

    copy = EmailCopy.objects.get(name="password_reset", language="en")
    marketing_client.post(change_url(copy), scheduled(copy, subject="Approved once"))
    User.objects.filter(pk=marketing_user.pk).update(is_staff=False)

    due_now(copy)
    run_worker()

    copy.refresh_from_db()
    assert copy.subject == LIVE_SUBJECT
    assert "may no longer publish" in caplog.text
    assert "Approved once" not in caplog.text  # never the words


def test_without_a_queue_that_can_wait_a_crafted_schedule_is_refused(marketing_client, reset_copy):
    answer = marketing_client.post(change_url(reset_copy), scheduled(reset_copy, subject="Now?"))

    assert answer.status_code == HTTPStatus.OK
    assert "needs the email worker" in answer.content.decode()
    reset_copy.refresh_from_db()
    assert (reset_copy.has_draft, reset_copy.publish_at) == (False, None)


def test_a_publishing_scheduled_for_later_is_neither_late_nor_a_retry(
    marketing_client, reset_copy, queue
):
    from auth_flow.mail.tasks import queue_status

    marketing_client.post(change_url(reset_copy), scheduled(reset_copy, subject="Later"))

    status = queue_status()
    assert (status.retries_scheduled, status.oldest_waiting_seconds) == (0, 0)
