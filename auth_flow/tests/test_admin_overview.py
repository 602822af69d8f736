"""Marketing's overview: every email, whether it is sent, its copy, sends and bounces."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from auth_flow.models import SentEmail
from auth_flow.tests.test_webhooks import mailgun_event, post_webhook, serve  # noqa: F401

OVERVIEW = "admin:auth_flow_emailcopy_overview"


def row_of(page: str, title: str) -> str:
    (row,) = [r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if title in r]
    return row


def counts_in(row: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="copy-count">(\d+)</td>', row)]


def sent(name: str, *, days_ago: float, bounced: bool = False, language: str = "en"):
    when = timezone.now() - timedelta(days=days_ago)
    return SentEmail.objects.create(
        name=name, language=language, sent_at=when, bounced_at=when if bounced else None
    )


def test_the_overview_counts_sends_and_bounces_of_7_and_30_days(marketing_client):
    sent("password_reset", days_ago=1)
    sent("password_reset", days_ago=2, bounced=True, language="de")
    sent("password_reset", days_ago=10)
    sent("password_reset", days_ago=20, bounced=True)
    sent("password_reset", days_ago=45)  # too old for either
    sent("password_changed", days_ago=3)

    page = marketing_client.get(reverse(OVERVIEW)).content.decode()

    assert counts_in(row_of(page, "Password reset<")) == [2, 4, 1, 2]
    assert counts_in(row_of(page, "Password changed")) == [1, 1, 0, 0]
    assert counts_in(row_of(page, "Confirm a new account")) == [0, 0, 0, 0]
    assert "@" not in re.sub(r"mia@example\.com", "", page.split("<tbody>")[1])


@pytest.mark.parametrize(
    ("on", "said"), [(False, "Not sent: switched off by your developers"), (True, "Sent")]
)
def test_the_overview_says_plainly_whether_an_email_is_sent(marketing_client, settings, on, said):
    settings.PASSWORD_RESET_NOTIFY_UNKNOWN = on

    row = row_of(marketing_client.get(reverse(OVERVIEW)).content.decode(), "unknown address")

    assert said in row
    assert ("PASSWORD_RESET_NOTIFY_UNKNOWN setting" in row) is not on


def test_the_overview_shows_drafts_waiting_and_own_copy(marketing_client):
    from auth_flow.models import EmailCopy
    from auth_flow.tests.test_admin_email_copy import change_url, form_data

    german = EmailCopy.objects.get(name="password_reset", language="de")
    marketing_client.post(change_url(german), form_data(german, subject="Neu", publish=True))
    english = EmailCopy.objects.get(name="password_reset", language="en")
    marketing_client.post(change_url(english), form_data(english, subject="Draft"))

    row = row_of(marketing_client.get(reverse(OVERVIEW)).content.decode(), "Password reset<")

    assert "Own copy in German" in row
    assert "English: Draft by mia" in row


def test_the_overview_is_linked_from_the_admin_index_for_marketing(marketing_client):
    index = marketing_client.get(reverse("admin:index")).content.decode()
    assert reverse(OVERVIEW) in index


def test_staff_who_cannot_see_the_emails_cannot_see_the_overview(client, db):
    from auth_flow.models import User

    client.force_login(User.objects.create_user("sam", "sam@example.com", "x", is_staff=True))
    assert client.get(reverse(OVERVIEW)).status_code == HTTPStatus.FORBIDDEN


def test_a_real_send_is_counted_without_its_address(client, user, mailoutbox):
    client.post(reverse("password_reset"), {"email": user.email})

    (row,) = SentEmail.objects.values()
    assert (row["name"], row["language"], row["bounced_at"]) == ("password_reset", "en", None)
    assert not any("@example" in str(value).lower() for value in row.values())


def test_a_provider_bounce_is_counted_against_its_email(client, db, serve):  # noqa: F811
    serve(provider="mailgun")
    email = SentEmail.objects.create(
        name="password_reset", language="en", message_id="<1@mg.example.com>"
    )
    other = SentEmail.objects.create(name="password_reset", language="en", message_id="2@x")

    assert post_webhook(client, "mailgun", mailgun_event()).status_code == HTTPStatus.OK

    email.refresh_from_db()
    other.refresh_from_db()
    assert email.bounced_at is not None
    assert other.bounced_at is None
