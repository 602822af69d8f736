"""One link sets one password: simultaneous submits against a real threaded server."""

import re
from http import HTTPStatus

import pytest
import requests
from django.urls import reverse

from auth_flow.models import User
from auth_flow.tests.conftest import at_once, reset_link_from

OLD, NEW_A, NEW_B = "correct-horse-battery-staple", "first-new-pass-5521", "second-new-pass-7732"


@pytest.fixture
def server_user(live_server, transactional_db, settings) -> User:
    settings.SITE_URL = live_server.url
    return User.objects.create_user(username="alice", email="alice@example.com", password=OLD)


def csrf_of(session: requests.Session, url: str) -> str:
    page = session.get(url).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def opened_reset_form(live_server, link: str) -> tuple[requests.Session, str]:
    """Open a reset link as a browser would; return the session and its set-password URL."""
    session = requests.Session()
    first = session.get(live_server.url + link, allow_redirects=False)
    return session, live_server.url + first.headers["Location"]


def logged_in(live_server, password: str) -> requests.Session:
    session = requests.Session()
    login = live_server.url + reverse("login")
    token = csrf_of(session, login)
    session.post(
        login,
        {
            "username": "alice",
            "password": password,
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": login},
    )
    return session


def reset_submit(session: requests.Session, url: str, password: str):
    token = csrf_of(session, url)
    return lambda: session.post(
        url,
        {"new_password1": password, "new_password2": password, "csrfmiddlewaretoken": token},
        headers={"Referer": url},
        allow_redirects=False,
    )


@pytest.mark.parametrize("trial", range(3))
def test_a_reset_link_submitted_twice_at_once_sets_one_password(
    live_server, server_user, mailoutbox, client, trial
):
    client.post(reverse("password_reset"), {"email": server_user.email})
    link = reset_link_from(mailoutbox[0])
    tab_a, url_a = opened_reset_form(live_server, link)
    tab_b, url_b = opened_reset_form(live_server, link)

    answers = at_once(reset_submit(tab_a, url_a, NEW_A), reset_submit(tab_b, url_b, NEW_B))

    assert sorted(a.status_code for a in answers) == [HTTPStatus.OK, HTTPStatus.FOUND]
    won, lost = sorted(answers, key=lambda a: a.status_code != HTTPStatus.FOUND)
    assert won.headers["Location"] == reverse("password_reset_complete")
    assert "This reset link can't be used" in lost.text
    server_user.refresh_from_db()
    winner = NEW_A if answers[0] is won else NEW_B
    assert server_user.check_password(winner)
    changed = [m for m in mailoutbox if m.subject == "Your Passage password was changed"]
    assert len(changed) == 1


@pytest.mark.parametrize("trial", range(3))
def test_a_change_racing_a_reset_cannot_both_win(
    live_server, server_user, mailoutbox, client, trial
):
    attacker = logged_in(live_server, OLD)
    change_url = live_server.url + reverse("password_change")
    change_token = csrf_of(attacker, change_url)
    client.post(reverse("password_reset"), {"email": server_user.email})
    owner, reset_url = opened_reset_form(live_server, reset_link_from(mailoutbox[0]))

    change, reset = at_once(
        lambda: attacker.post(
            change_url,
            {
                "old_password": OLD,
                "new_password1": NEW_A,
                "new_password2": NEW_A,
                "csrfmiddlewaretoken": change_token,
            },
            headers={"Referer": change_url},
            allow_redirects=False,
        ),
        reset_submit(owner, reset_url, NEW_B),
    )

    server_user.refresh_from_db()
    change_won = change.headers.get("Location") == reverse("password_change_done")
    reset_won = reset.headers.get("Location") == reverse("password_reset_complete")
    assert change_won != reset_won, (change.status_code, reset.status_code)
    assert server_user.check_password(NEW_A if change_won else NEW_B)
    if reset_won:
        # The attacker is logged out (told so, or already signed out by the reset),
        # not left in a live session.
        assert change.headers["Location"].startswith(reverse("login"))
        home = attacker.get(live_server.url + reverse("home")).text
        assert 'data-testid="whoami"' not in home
    else:
        assert "This reset link can't be used" in reset.text
    changed = [m for m in mailoutbox if m.subject == "Your Passage password was changed"]
    assert len(changed) == 1
