"""One address, one spelling: look-alike Unicode cannot split, block or multiply it."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from auth_flow.models import User, email_canonicalize

LONG_S = "\u017fam@example.com"  # the long s: NFKC + casefold make it "sam"
FULLWIDTH = "\uff33\uff21\uff2d@example.com"  # fullwidth SAM


def test_spellings_of_one_address_have_one_canonical_form():
    spellings = ["sam@example.com", "SAM@Example.COM", LONG_S, FULLWIDTH, " sam@example.com "]
    assert {email_canonicalize(s) for s in spellings} == {"sam@example.com"}


def test_two_accounts_cannot_share_an_address_in_any_spelling(db):
    User.objects.create_user("sam", "sam@example.com", "x")

    with pytest.raises(IntegrityError):
        User.objects.create_user("impostor", LONG_S, "x")


def test_signup_refuses_look_alike_letters_before_the_at(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "impostor",
            "email": LONG_S,
            "password1": "a-good-passphrase-77",
            "password2": "a-good-passphrase-77",
        },
    )

    assert "only ASCII letters" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("typed", ["SAM@EXAMPLE.COM", LONG_S])
def test_log_in_by_email_finds_the_one_account_whatever_the_spelling(client, db, typed):
    User.objects.create_user("sam", "sam@example.com", "a-good-passphrase-77")

    response = client.post(
        reverse("login"), {"username": typed, "password": "a-good-passphrase-77"}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_the_per_address_reset_cap_counts_every_spelling_once(client, db, settings, mailoutbox):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reset_email_per_address": "3/900"}
    User.objects.create_user("sam", "sam@example.com", "x")

    for typed in ["sam@example.com", "SAM@EXAMPLE.COM", LONG_S, FULLWIDTH, "Sam@Example.com"]:
        client.post(reverse("password_reset"), {"email": typed}, REMOTE_ADDR="203.0.113.9")

    assert len(mailoutbox) == 3
    assert {m.to[0] for m in mailoutbox} == {"sam@example.com"}  # the stored spelling
