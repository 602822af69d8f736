"""Two editors press Save at the same moment, against a real threaded server."""

import re
import threading
from http import HTTPStatus

import pytest
import requests
from django.urls import reverse

from auth_flow.mail.marketing import marketing_user_create
from auth_flow.models import EmailCopy

PASSWORD = "race-marketing-1234"


def editor_session(live_server, username: str, copy: EmailCopy) -> tuple[requests.Session, dict]:
    """Log in to the admin and open the copy's edit page, as a browser would."""
    session = requests.Session()
    login = live_server.url + reverse("admin:login")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(login).text)
    session.post(
        login,
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": login},
    )
    page = session.get(
        live_server.url + reverse("admin:auth_flow_emailcopy_change", args=[copy.pk])
    ).text
    fields = dict(re.findall(r'name="(csrfmiddlewaretoken|loaded_version)" value="([^"]+)"', page))
    return session, fields


@pytest.mark.parametrize("trial", range(2))
@pytest.mark.parametrize("button", ["_continue", "_publish"])  # save a draft, publish
def test_of_two_simultaneous_saves_one_wins_and_the_other_is_told(
    live_server, transactional_db, settings, trial, button
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name in ("ann", "bob"):
        marketing_user_create(username=name, email=f"{name}@example.com", password=PASSWORD)
    copy = EmailCopy.objects.get(name="password_reset", language="en")
    url = live_server.url + reverse("admin:auth_flow_emailcopy_change", args=[copy.pk])
    editors = {name: editor_session(live_server, name, copy) for name in ("ann", "bob")}
    start = threading.Barrier(2)
    answers = {}

    def save(name: str) -> None:
        session, fields = editors[name]
        start.wait()
        answers[name] = session.post(
            url,
            {
                **fields,
                "subject": f"{name}'s subject",
                "body": copy.body,
                "button": copy.button,
                button: "pressed",
            },
            headers={"Referer": url},
            allow_redirects=False,
        )

    threads = [threading.Thread(target=save, args=(name,)) for name in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [HTTPStatus.OK, HTTPStatus.FOUND], statuses
    (winner,) = [n for n, a in answers.items() if a.status_code == HTTPStatus.FOUND]
    (loser,) = [n for n, a in answers.items() if a.status_code == HTTPStatus.OK]
    assert f"{winner} changed this email at" in answers[loser].text
    copy.refresh_from_db()
    edits = list(copy.history.filter(publish_kind="edit").values_list("subject", flat=True))
    if button == "_publish":
        assert copy.subject == f"{winner}'s subject"
        assert edits == [f"{winner}'s subject"]
    else:
        assert copy.draft_subject == f"{winner}'s subject"
        assert copy.subject != copy.draft_subject  # the live email is unchanged
        assert edits == []
