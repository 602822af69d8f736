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


# Every way an account is written gets its canonical address ---------------------------
# Before, only save() set it: accounts from bulk_create, loaddata or update() had none,
# and silently never got a reset link.


def test_bulk_created_accounts_get_their_canonical_address(db, mailoutbox):
    User.objects.bulk_create([User(username="bulk", email="Bulk@Example.com", password="x")])

    assert User.objects.get(username="bulk").email_canonical == "bulk@example.com"


def test_loaded_accounts_get_their_canonical_address(db, tmp_path):
    from django.core.management import call_command

    fixture = tmp_path / "accounts.json"
    fixture.write_text(
        '[{"model": "auth_flow.user", "pk": 40, "fields": {"username": "loaded", '
        '"email": "Loaded@Example.com", "password": "x", "date_joined": "2026-01-01T00:00Z"}}]'
    )

    call_command("loaddata", str(fixture), verbosity=0)

    assert User.objects.get(pk=40).email_canonical == "loaded@example.com"


def test_an_update_of_the_address_updates_its_canonical_form(db, client, mailoutbox):
    sam = User.objects.create_user("sam", "sam@example.com", "x")

    User.objects.filter(pk=sam.pk).update(email="Samuel@Example.com")
    client.post(reverse("password_reset"), {"email": "samuel@example.com"})

    assert User.objects.get(pk=sam.pk).email_canonical == "samuel@example.com"
    assert [m.to for m in mailoutbox] == [["Samuel@Example.com"]]


def test_an_update_of_the_address_by_expression_is_refused(db):
    from django.db.models.functions import Lower

    with pytest.raises(TypeError, match="email_canonical"):
        User.objects.update(email=Lower("email"))
