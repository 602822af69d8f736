"""The password rules refuse what an attacker tries first."""

from http import HTTPStatus

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from auth_flow.models import User
from site_config import settings as site_settings


@pytest.mark.parametrize(
    "password",
    ["my-Passage-pass-77", "x-ALICE-rules-9981", "alice@example.com!!", "zz-alice.w-zz-1234"],
    ids=["site-name", "username", "email", "email-local-part"],
)
def test_signup_refuses_a_password_made_of_personal_words(client, db, password):
    response = client.post(
        reverse("signup"),
        {
            "username": "alice",
            "email": "alice.w@example.com" if "alice.w" in password else "alice@example.com",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert "can&#x27;t contain the site&#x27;s name, your username" in response.content.decode()
    assert not User.objects.exists()


def test_a_reset_refuses_the_username_as_password(client, user, reset_path):
    set_password_url = client.get(reset_path)["Location"]

    response = client.post(
        set_password_url,
        {"new_password1": "Alice-2026-xyz-quartz", "new_password2": "Alice-2026-xyz-quartz"},
    )

    assert "can&#x27;t contain the site&#x27;s name" in response.content.decode()


def test_new_passwords_use_argon2_and_old_pbkdf2_hashes_upgrade_at_login(client, db, settings):
    settings.PASSWORD_HASHERS = site_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    old = User.objects.create(
        username="old",
        email="old@example.com",
        password=make_password("an-old-passphrase-1", hasher="pbkdf2_sha256"),
    )

    client.post(reverse("login"), {"username": "old", "password": "an-old-passphrase-1"})

    old.refresh_from_db()
    assert old.password.startswith("argon2$")
    assert User.objects.create_user("new", "n@example.com", "x").password.startswith("argon2$")
