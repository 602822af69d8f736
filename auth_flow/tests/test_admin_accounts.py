"""Staff manage accounts but never set a person's password (ASVS 6.4.6)."""

from http import HTTPStatus

import pytest
from django.urls import reverse

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
