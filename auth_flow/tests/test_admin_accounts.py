"""Staff manage accounts but never set a person's password (ASVS 6.4.6)."""

from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from auth_flow.checks import check_email_canonical
from auth_flow.models import User
from auth_flow.tests.conftest import reset_link_from


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))
    return client


def test_staff_cannot_set_a_users_password(admin_client, user, password):
    url = reverse("admin:auth_user_password_change", args=[user.pk])

    assert admin_client.get(url).status_code == HTTPStatus.FORBIDDEN
    posted = admin_client.post(url, {"password1": "chosen-by-staff-1", "password2": "x"})

    assert posted.status_code == HTTPStatus.FORBIDDEN
    user.refresh_from_db()
    assert user.check_password(password)
    page = admin_client.get(reverse("admin:auth_flow_user_change", args=[user.pk]))
    assert f"/{user.pk}/password/" not in page.content.decode()


def test_staff_send_a_reset_email_instead(admin_client, user, mailoutbox):
    response = admin_client.post(
        reverse("admin:auth_flow_user_changelist"),
        {"action": "password_reset_send", "_selected_action": [user.pk]},
    )

    assert response.status_code == HTTPStatus.FOUND
    (message,) = mailoutbox
    assert message.to == [user.email]
    assert reset_link_from(message)


def test_a_new_account_gets_a_link_to_choose_its_password(admin_client, mailoutbox):
    response = admin_client.post(
        reverse("admin:auth_flow_user_add"), {"username": "dana", "email": "dana@example.com"}
    )

    assert response.status_code == HTTPStatus.FOUND
    dana = User.objects.get(username="dana")
    assert dana.has_usable_password()  # random, known to nobody
    (message,) = mailoutbox
    assert message.to == ["dana@example.com"]
    assert reset_link_from(message)


# One account per address, in any spelling ----------------------------------------

TAKEN = "An account with this email address already exists."


@pytest.mark.parametrize(
    "spelling",
    # The last with a fullwidth "e", which NFKC folds to "e".
    ["alice@example.com", "ALICE@EXAMPLE.COM", "alice@\uff45xample.com"],
    ids=["lower", "upper", "fullwidth"],
)
def test_a_new_account_cannot_take_an_address_in_another_spelling(
    admin_client, user, mailoutbox, spelling
):
    response = admin_client.post(
        reverse("admin:auth_flow_user_add"), {"username": "dana", "email": spelling}
    )

    assert response.status_code == HTTPStatus.OK
    assert TAKEN in response.content.decode()
    assert not User.objects.filter(username="dana").exists()
    assert mailoutbox == []


def change_data(account: User, **changes) -> dict:
    """Post the change form as the admin page would."""
    return {
        "username": account.username,
        "email": account.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **changes,
    }


def test_an_edit_cannot_take_another_accounts_address(admin_client, user):
    bob = User.objects.create_user("bob", "bob@example.com", "x")
    url = reverse("admin:auth_flow_user_change", args=[bob.pk])

    response = admin_client.post(url, change_data(bob, email="ALICE@example.com"))

    assert response.status_code == HTTPStatus.OK
    assert TAKEN in response.content.decode()
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"


def test_an_edit_may_respell_the_accounts_own_address(admin_client, user):
    url = reverse("admin:auth_flow_user_change", args=[user.pk])

    response = admin_client.post(url, change_data(user, email="alice@example.com"))

    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.email == "alice@example.com"


# Accounts left without a canonical address ---------------------------------------


def canonical_of(account: User) -> str | None:
    return User.objects.values_list("email_canonical", flat=True).get(pk=account.pk)


@pytest.fixture
def unfilled(user) -> dict[str, User]:
    """An account whose canonical address can be filled, and one whose address is held."""
    carol = User.objects.create_user("carol", "Carol@Example.com", "x")
    twin = User.objects.create_user("twin", "twin-for-now@example.com", "x")
    # As migration 0005 left them: no canonical spelling; twin's is alice's address.
    User.objects.filter(pk=carol.pk).update(email_canonical=None)
    User.objects.filter(pk=twin.pk).update(email_canonical=None)
    User.objects.filter(pk=twin.pk).update(email="ALICE@example.com", email_canonical=None)
    return {"carol": carol, "twin": twin}


def test_the_check_counts_accounts_whose_canonical_address_can_be_filled(unfilled):
    (warning,) = check_email_canonical(None)

    assert warning.id == "auth_flow.W001"
    assert warning.msg.startswith("1 account(s)")
    assert "email_canonical_fill" in warning.hint


def test_the_check_is_quiet_when_every_address_is_filled(user):
    assert check_email_canonical(None) == []


def test_the_fill_command_fills_what_it_can_and_names_what_it_skips(unfilled, user):
    out = StringIO()
    call_command("email_canonical_fill", stdout=out)

    printed = out.getvalue()
    assert "Filled the canonical address of 1 account(s)." in printed
    assert "Skipped 1 account(s) whose address another account already holds" in printed
    assert f"twin (id {unfilled['twin'].pk})" in printed
    assert canonical_of(unfilled["carol"]) == "carol@example.com"
    assert canonical_of(unfilled["twin"]) is None
    assert canonical_of(user) == "alice@example.com"
    assert check_email_canonical(None) == []
