"""Marketing edits email copy in the admin: permissions, validation, preview, test send,
and two editors at once (drafts, publishing and history: test_admin_publishing.py)."""

import re
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from auth_flow.mail.catalog import PASSWORD_RESET
from auth_flow.models import EmailCopy, User


@pytest.fixture
def reset_copy(db) -> EmailCopy:
    """The reset email's copy with no versions yet, as a new site has it."""
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    # A transactional test before this one (in any order) flushes the tables, and the
    # copies seeded again after the flush come with a version each.
    copy.history.all().delete()
    return copy


def change_url(copy: EmailCopy) -> str:
    return reverse("admin:auth_flow_emailcopy_change", args=[copy.pk])


def form_data(copy: EmailCopy, *, publish: bool = False, **changes) -> dict:
    """Post the copy as the edit page would, from the version now in the database.

    As "Save draft" does, or as "Publish" does with `publish=True`.
    """
    return {
        "subject": copy.subject,
        "body": copy.body,
        "button": copy.button,
        "loaded_version": EmailCopy.objects.get(id=copy.id).version,  # copy may be a version
        **({"_publish": "Publish"} if publish else {"_continue": "Save draft"}),
        **changes,
    }


NEW_BODY = PASSWORD_RESET.body.replace(
    "Someone asked to reset", "Forgot it? It happens. Someone asked to reset"
)


# Who may do what -------------------------------------------------------------------


def test_marketing_sees_email_copy_and_nothing_else(marketing_client):
    index = marketing_client.get(reverse("admin:index"))

    assert index.status_code == HTTPStatus.OK
    assert b"Emails" in index.content
    assert b"Passage administration" in index.content
    for other in (b"Users", b"Groups", b"Undeliverable", b"task results"):
        assert other not in index.content


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:auth_flow_user_changelist",
        "admin:auth_group_changelist",
        "admin:auth_flow_undeliverableaddress_changelist",
        "admin:django_tasks_database_dbtaskresult_changelist",
        "admin:auth_flow_emailcopy_add",
    ],
)
def test_marketing_gets_403_everywhere_else(marketing_client, url_name):
    assert marketing_client.get(reverse(url_name)).status_code == HTTPStatus.FORBIDDEN


def test_marketing_cannot_delete_an_email(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_delete", args=[reset_copy.pk])
    assert marketing_client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert EmailCopy.objects.filter(pk=reset_copy.pk).exists()


def test_the_list_says_what_each_email_goes_out_in_and_who_changed_it(
    marketing_client, reset_copy
):
    marketing_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="New one", publish=True)
    )
    other = EmailCopy.objects.get(name="password_changed", language="en")
    marketing_client.post(change_url(other), form_data(other, subject="Draft only"))

    page = marketing_client.get(reverse("admin:auth_flow_emailcopy_changelist")).content
    page = page.decode()

    assert "Goes out in" in page
    # Each email's languages, the default one first.
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    reset_rows = [r for r in rows if ">Password reset<" in r]
    assert "English" in reset_rows[0]
    assert "New one" in page
    assert "by mia" in page
    assert "Never: the shipped default" in page  # the untouched emails
    assert "Choose an email to edit" in page
    assert "Draft by mia" in page
    assert "Draft only" not in page  # the list shows the published subject


def test_staff_without_the_permission_cannot_preview_or_send(client, reset_copy):
    staff = User.objects.create_user("sam", "sam@example.com", "x", is_staff=True)
    client.force_login(staff)

    for name in ("preview", "send_test"):
        url = reverse(f"admin:auth_flow_emailcopy_{name}", args=[reset_copy.pk])
        assert client.post(url, form_data(reset_copy)).status_code == HTTPStatus.FORBIDDEN


def test_create_marketing_user_command(db, monkeypatch):
    answers = iter(["a-long-pass-phrase-9", "a-long-pass-phrase-9"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    call_command("create_marketing_user", "max", "max@example.com")

    user = User.objects.get(username="max")
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Marketing"]
    assert user.check_password("a-long-pass-phrase-9")
    assert user.has_perm("auth_flow.change_emailcopy")
    assert not user.has_perm("auth_flow.change_user")


def test_create_marketing_user_refuses_a_weak_password(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="too common"):
        call_command("create_marketing_user", "max", "max@example.com", password="password")


# Saving ----------------------------------------------------------------------------


def test_a_valid_edit_is_published_as_a_version_by_its_author(marketing_client, reset_copy):
    response = marketing_client.post(
        change_url(reset_copy),
        form_data(reset_copy, body=NEW_BODY.replace("\n", "\r\n"), publish=True),
    )

    assert response.status_code == HTTPStatus.FOUND
    reset_copy.refresh_from_db()
    assert reset_copy.body == NEW_BODY  # newlines as a person sees them
    assert not reset_copy.has_draft
    version = reset_copy.history.latest()
    assert version.history_user.username == "mia"
    assert version.body == NEW_BODY
    assert version.publish_kind == "edit"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"body": "Hello {{ user.password }}\n\n[button]"}, "“{{ user.password }}”"),
        ({"body": "Hello {{ username }}, no button"}, "Put [button] exactly once"),
        ({"subject": "{% debug %}"}, "template tags are not allowed"),
        ({"subject": ""}, "This field is required."),
        ({"subject": "x" * 151}, "keep it to 150"),
        (
            {
                "body": NEW_BODY
                + "\n\nhttps://passage-support.example.net/reset?user={{ username }}"
            },
            "Remove “https://passage-support.example.net/res…”: email programs turn",
        ),
        ({"button": "Open passage.zip"}, "Remove “passage.zip”"),
        ({"subject": "Reset \u202eyour password"}, "U+202E (right-to-left override)"),
    ],
)
def test_a_bad_edit_is_refused_and_the_live_copy_stays(
    marketing_client, reset_copy, changes, message
):
    before = (reset_copy.subject, reset_copy.body)

    response = marketing_client.post(change_url(reset_copy), form_data(reset_copy, **changes))

    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    reset_copy.refresh_from_db()
    assert (reset_copy.subject, reset_copy.body) == before
    assert not reset_copy.history.exists()


# Preview ---------------------------------------------------------------------------


def test_the_preview_renders_the_unsaved_text_with_sample_values(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_preview", args=[reset_copy.pk])

    response = marketing_client.post(
        url,
        form_data(reset_copy, subject="Hi {{ username }}", body=NEW_BODY + "\n\n<b>bold</b>"),
        headers={"HX-Request": "true"},
    )

    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Hi alice" in page
    assert "Forgot it? It happens." in page
    assert "24 November 2026 at 18:30 UTC" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>" not in page
    reset_copy.refresh_from_db()
    assert reset_copy.subject == PASSWORD_RESET.subject  # nothing saved

    html_url = page.split('<iframe src="')[1].split('"')[0].replace("&amp;", "&")
    frame = marketing_client.get(html_url)
    assert frame.status_code == HTTPStatus.OK
    body = frame.content.decode()
    assert "Forgot it? It happens." in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    # A test send and a preview never carry a real token: the button says so.
    assert 'href="http://127.0.0.1:8000/emails/sample-link/"' in body
    csp = frame["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "sandbox" in csp
    assert "script-src" not in csp
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_the_preview_shows_errors_as_they_type(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_preview", args=[reset_copy.pk])

    response = marketing_client.post(url, form_data(reset_copy, body="{{ user.password }}"))

    page = response.content.decode()
    assert "This copy cannot be saved yet" in page
    assert "“{{ user.password }}” is not one of this email&#x27;s placeholders" in page
    assert "Put [button] exactly once" in page
    assert "<iframe" not in page


def test_the_preview_only_answers_posts(marketing_client, reset_copy):
    url = reverse("admin:auth_flow_emailcopy_preview", args=[reset_copy.pk])
    assert marketing_client.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# Test send -------------------------------------------------------------------------


def test_a_test_send_goes_to_the_staff_members_own_address(
    marketing_client, reset_copy, mailoutbox, user
):
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    response = marketing_client.post(
        url, form_data(reset_copy, subject="Unsaved {{ site_name }} subject", body=NEW_BODY)
    )

    assert response.status_code == HTTPStatus.OK
    assert "Test queued to mia@example.com" in response.content.decode()
    (message,) = mailoutbox
    assert message.to == ["mia@example.com"]
    assert message.subject == "[Test] Unsaved Passage subject"
    assert "Forgot it? It happens." in message.body
    assert "http://127.0.0.1:8000/emails/sample-link/\n" in message.body
    assert "/accounts/reset/" not in message.body + message.alternatives[0].content
    reset_copy.refresh_from_db()
    assert reset_copy.subject == PASSWORD_RESET.subject


def test_a_test_of_bad_copy_is_not_sent(marketing_client, reset_copy, mailoutbox):
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    response = marketing_client.post(url, form_data(reset_copy, body="no button"))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_CONTENT
    assert "Fix the errors in the copy" in response.content.decode()
    assert mailoutbox == []


def test_a_test_send_needs_an_address(marketing_client, marketing_user, reset_copy, mailoutbox):
    User.objects.filter(pk=marketing_user.pk).update(email="")
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    response = marketing_client.post(url, form_data(reset_copy))

    assert response.status_code == HTTPStatus.UNPROCESSABLE_CONTENT
    assert "Choose someone from the list" in response.content.decode()
    assert mailoutbox == []


def test_an_editor_may_send_20_tests_an_hour(
    marketing_client, marketing_user, reset_copy, mailoutbox, client
):
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])
    for n in range(20):
        sent = marketing_client.post(url, form_data(reset_copy, subject=f"Test {n}"))
        assert sent.status_code == HTTPStatus.OK, n

    refused = marketing_client.post(url, form_data(reset_copy, subject="One too many"))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    page = refused.content.decode()
    assert "You have sent the most test emails allowed: 20 in 60 minutes." in page
    assert "This one was not sent; try again in 60 minutes." in page
    assert len(mailoutbox) == 20
    assert "One too many" not in {message.subject for message in mailoutbox}
    # Counted per editor: another one still sends.
    other = User.objects.create_user("max", "max@example.com", "x", is_staff=True)
    other.groups.add(*marketing_user.groups.all())
    client.force_login(other)
    assert client.post(url, form_data(reset_copy)).status_code == HTTPStatus.OK
    assert len(mailoutbox) == 21


def test_the_test_send_limit_comes_from_the_settings(
    marketing_client, reset_copy, mailoutbox, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "copy_test_send": "1/60"}
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    assert marketing_client.post(url, form_data(reset_copy)).status_code == HTTPStatus.OK
    refused = marketing_client.post(url, form_data(reset_copy))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "allowed: 1 in 1 minute. This one was not sent; try again in 1 minute." in (
        refused.content.decode()
    )
    assert len(mailoutbox) == 1


# History, revert, reset to default -------------------------------------------------


def test_staff_who_may_only_view_the_copy_cannot_reset_it(client, reset_copy):
    viewer = User.objects.create_user("vic", "vic@example.com", "x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_emailcopy"))
    EmailCopy.objects.filter(pk=reset_copy.pk).update(subject="Edited")
    client.force_login(viewer)
    changelist = reverse("admin:auth_flow_emailcopy_changelist")

    assert client.get(changelist).status_code == HTTPStatus.OK  # may look
    assert 'value="reset_to_default"' not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "reset_to_default", "_selected_action": [reset_copy.pk]})

    reset_copy.refresh_from_db()
    assert reset_copy.subject == "Edited"
    assert not reset_copy.history.exists()


# Two editors at once --------------------------------------------------------------


def test_an_edit_from_an_older_version_is_refused_with_the_text_kept(marketing_client, reset_copy):
    other = User.objects.create_user("max", "max@example.com", "x", is_staff=True)
    other.groups.add(*User.objects.get(username="mia").groups.all())
    max_client = type(marketing_client)()
    max_client.force_login(other)
    mine = form_data(reset_copy, subject="Mia's subject", publish=True)  # loaded before

    max_client.post(
        change_url(reset_copy), form_data(reset_copy, subject="Max's subject", publish=True)
    )
    response = marketing_client.post(change_url(reset_copy), mine)

    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "max changed this email at" in page
    assert 'value="Mia&#x27;s subject"' in page  # nothing typed is lost
    reset_copy.refresh_from_db()
    assert reset_copy.subject == "Max's subject"

    # Having seen it, saving again replaces max's text on purpose.
    current = EmailCopy.objects.get(pk=reset_copy.pk).version
    assert f'name="loaded_version" value="{current}"' in page
    again = marketing_client.post(change_url(reset_copy), {**mine, "loaded_version": current})
    assert again.status_code == HTTPStatus.FOUND
    reset_copy.refresh_from_db()
    assert reset_copy.subject == "Mia's subject"
    assert [v.subject for v in reset_copy.history.order_by("history_date")] == [
        "Max's subject",
        "Mia's subject",
    ]
    assert [v.history_user.username for v in reset_copy.history.order_by("history_date")] == [
        "max",
        "mia",
    ]


def test_the_preview_still_renders_an_edit_from_an_older_version(marketing_client, reset_copy):
    mine = form_data(reset_copy, subject="Mine")
    EmailCopy.objects.filter(pk=reset_copy.pk).update(version=5)

    url = reverse("admin:auth_flow_emailcopy_preview", args=[reset_copy.pk])
    page = marketing_client.post(url, mine).content.decode()

    assert 'data-testid="preview-subject" lang="en" dir="auto">Mine<' in page
    assert "Someone saved a newer version of this email while you were editing." in page


def test_a_test_send_goes_through_the_queue(
    transactional_db, marketing_client, reset_copy, settings, mailoutbox
):
    from django_tasks_db.models import DBTaskResult

    from auth_flow.tests.test_tasks import run_worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    url = reverse("admin:auth_flow_emailcopy_send_test", args=[reset_copy.pk])

    marketing_client.post(url, form_data(reset_copy, subject="Queued"))

    (task,) = DBTaskResult.objects.all()
    assert task.task_path == "auth_flow.mail.tasks.copy_test_send"
    assert task.args_kwargs["kwargs"]["to"] == "mia@example.com"
    assert mailoutbox == []
    run_worker()
    assert [m.subject for m in mailoutbox] == ["[Test] Queued"]


def test_an_email_without_a_button_is_edited_and_previewed_without_one(marketing_client):
    copy = EmailCopy.objects.get(name="password_reset_unknown", language="en")
    url = reverse("admin:auth_flow_emailcopy_preview", args=[copy.pk])

    edit = marketing_client.get(change_url(copy)).content.decode()
    page = marketing_client.post(url, form_data(copy, body="Hi {{ email }}")).content.decode()

    assert 'name="button"' not in edit
    assert "{{ email }}" in edit  # its own placeholders are listed
    assert "Hi sam@example.com" in page
    assert "http://127.0.0.1:8000/" not in page.split("<pre")[1]  # no button, no link
