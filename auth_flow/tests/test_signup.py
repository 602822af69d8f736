"""Sign-up tells nobody which addresses have accounts, reserves nothing, and creates an
account only when the address's owner confirms it with the password chosen for it."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
import requests
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from auth_flow.models import PendingSignup, User
from auth_flow.tests.conftest import assert_safe_cookies, at_once, body_swap_path, comparable

PASSWORD = "a-good-passphrase-77"
CONFIRMATION = "Confirm your email address for Passage"
SOMEONE_TRIED = "Someone tried to sign up to Passage with your address"


def signup(client, *, username="bob", email="bob@example.com", password=PASSWORD, **headers):
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": password, "password2": password},
        headers=headers,
    )


def verify_link_from(message) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/accounts/verify/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def confirm(client, link: str, *, password=PASSWORD, username=None, **headers):
    """Open a confirmation link and confirm it; return the confirmation's answer."""
    page = client.get(link)
    if page.status_code != HTTPStatus.FOUND:
        return page  # the link can't be used
    confirm_url = page["Location"]
    if username is None:
        username = PendingSignup.objects.get(pk=pending_pk(link)).username
    return client.post(confirm_url, {"username": username, "password": password}, headers=headers)


def pending_pk(link: str) -> int:
    from django.utils.http import urlsafe_base64_decode

    return int(urlsafe_base64_decode(link.split("/")[3]).decode())


def logs_in(identifier: str, password: str) -> bool:
    client = Client()
    client.post(reverse("login"), {"username": identifier, "password": password})
    return "_auth_user_id" in client.session


def test_signup_creates_no_account_until_confirmed(any_client, mode, mailoutbox):
    response = signup(any_client)

    target = response["HX-Location"] if mode == "htmx" else response["Location"]
    assert reverse("signup_done") in target
    assert not User.objects.exists()
    assert PendingSignup.objects.get().username == "bob"
    (message,) = mailoutbox
    assert message.to == ["bob@example.com"]
    assert message.subject == CONFIRMATION
    assert verify_link_from(message)
    done = any_client.get(reverse("signup_done"))
    assert b"Check your email" in done.content


def test_the_pending_signup_keeps_a_hash_never_the_password(client, db, mailoutbox):
    signup(client)

    pending = PendingSignup.objects.get()
    assert PASSWORD not in pending.password
    assert pending.password.startswith("md5$")  # the tests' hasher


def test_an_unconfirmed_signup_can_neither_log_in_nor_get_a_reset_link(client, db, mailoutbox):
    signup(client)

    client.post(reverse("password_reset"), {"email": "bob@example.com"})

    assert not logs_in("bob", PASSWORD)
    assert not logs_in("bob@example.com", PASSWORD)
    assert [m.subject for m in mailoutbox] == [CONFIRMATION]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_address_with_an_account_is_answered_exactly_like_a_new_one(
    db, user, mailoutbox, htmx, monkeypatch
):
    from auth_flow.accounts import services

    headers = {"HX-Request": "true", "HX-Target": "main"} if htmx else {}
    hashed = []
    original = services.make_password
    monkeypatch.setattr(services, "make_password", lambda raw: hashed.append(raw) or original(raw))
    answers = {}
    for name, email in (("new", "bob@example.com"), ("taken", "ALICE@example.com")):
        client = Client()
        response = signup(client, username=f"{name}-user", email=email, **headers)
        answers[name] = (response, client.get(reverse("signup_done"), headers=headers))

    (new, new_done), (taken, taken_done) = answers.values()
    assert new.status_code == taken.status_code
    assert dict(new.items()).keys() == dict(taken.items()).keys()
    assert new.get("Location") == taken.get("Location")
    assert new.get("HX-Location") == taken.get("HX-Location")
    assert comparable(new.content) == comparable(taken.content)
    assert comparable(new_done.content) == comparable(taken_done.content)
    assert b"already exists" not in taken.content + taken_done.content
    assert hashed == [PASSWORD, PASSWORD]  # the same work either way
    # No second account; the owner hears of it, in the email only they can read.
    assert not User.objects.filter(username="taken-user").exists()
    notice = next(m for m in mailoutbox if m.to == [user.email])
    assert notice.subject == SOMEONE_TRIED
    assert "log in with your username, alice" in notice.body
    assert "/accounts/password_reset/" in notice.body
    # Nothing is left to confirm for the address that has an account.
    assert list(PendingSignup.objects.values_list("username", flat=True)) == ["new-user"]


@pytest.mark.parametrize("address", ["new@example.com", "alice@example.com"], ids=["new", "taken"])
def test_signing_up_reserves_no_username_whatever_the_address(client, user, mailoutbox, address):
    # Before: a new address reserved the username and a taken one did not, so trying
    # the username again told anyone whether the address had an account.
    signup(client, username="probe_x", email=address)

    again = signup(Client(), username="probe_x", email="other@example.com")

    assert again.status_code == HTTPStatus.FOUND
    assert not User.objects.filter(username="probe_x").exists()


def test_a_taken_username_is_a_plain_form_error(client, user, mailoutbox):
    response = signup(client, username="alice", email="new@example.com")

    assert response.status_code == HTTPStatus.OK
    assert b"A user with that username already exists." in response.content
    assert mailoutbox == []


def test_the_confirmation_email_carries_nothing_the_signer_typed(client, db, mailoutbox):
    lure = "URGENT.account-suspended.verify-now-at-www.passage-support.example"

    signup(client, username=lure, email="victim@example.com")

    (message,) = mailoutbox
    html = message.alternatives[0].content
    for part in (message.subject, message.body, html):
        assert "passage-support" not in part
        assert "URGENT" not in part


def test_someone_tried_email_names_only_the_owner(client, user, mailoutbox):
    signup(client, username="URGENT.call-us-now", email=user.email)

    (message,) = mailoutbox
    assert message.subject == SOMEONE_TRIED
    assert "URGENT" not in message.body + message.alternatives[0].content
    assert "alice" in message.body


# Pre-hijacking: planting an account on someone else's address -----------------------


def test_a_planted_signup_never_becomes_the_owners_account(client, db, mailoutbox):
    signup(
        Client(), username="mallory_pre", email="victim@example.com", password="mallory-knows-1"
    )
    signup(client, username="victim", email="VICTIM@example.com")
    planted_link, own_link = (verify_link_from(m) for m in mailoutbox)

    done = confirm(client, own_link)

    assert done.status_code == HTTPStatus.FOUND
    (account,) = User.objects.all()
    assert account.username == "victim"
    assert account.email_confirmed_at is not None
    assert logs_in("victim@example.com", PASSWORD)
    assert not logs_in("victim@example.com", "mallory-knows-1")
    assert not logs_in("mallory_pre", "mallory-knows-1")
    # The first confirmed sign-up for the address voids the others.
    assert not PendingSignup.objects.exists()
    assert b"This link can&#x27;t be used" in Client().get(planted_link, follow=True).content


def test_the_owner_cannot_be_walked_into_a_planted_account(client, db, mailoutbox):
    signup(
        Client(), username="mallory_pre", email="victim@example.com", password="mallory-knows-1"
    )
    (planted,) = mailoutbox

    # The owner opens the unsolicited link: without the planter's password, nothing.
    refused = confirm(client, verify_link_from(planted), password="the-owners-own-pass")

    assert refused.status_code == HTTPStatus.OK
    assert b"This is not the password chosen at sign-up." in refused.content
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_on_one_link_are_limited(client, db, mailoutbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures": "3/900"}
    signup(Client())
    link = verify_link_from(mailoutbox[0])
    confirm_url = client.get(link)["Location"]

    answers = [
        client.post(confirm_url, {"username": "bob", "password": f"guess-{n}"}) for n in range(3)
    ]
    right = client.post(confirm_url, {"username": "bob", "password": PASSWORD})

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 3
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(right["Retry-After"]) > 0
    assert b"Too many wrong passwords for this link" in right.content
    assert not User.objects.exists()


# Confirming --------------------------------------------------------------------------


@pytest.fixture
def verify_path(client, db, mailoutbox) -> str:
    signup(client)
    return verify_link_from(mailoutbox[0])


def test_the_link_leaves_the_url_and_confirms_only_on_a_post(client, verify_path):
    token = verify_path.rstrip("/").rsplit("/", 1)[1]

    first = client.get(verify_path)
    confirm_url = first["Location"]
    page = client.get(confirm_url)

    assert first.status_code == HTTPStatus.FOUND
    assert token not in confirm_url
    assert first["Referrer-Policy"] == "no-referrer"
    cookie = first.cookies["verify_token"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"]
    assert cookie["path"] == verify_path.rstrip("/").rsplit("/", 1)[0] + "/"
    for session in Session.objects.all():
        assert token not in session.session_data
    assert b"Confirm your email address" in page.content
    assert b'autocomplete="current-password"' in page.content
    assert not User.objects.exists()  # a GET confirms nothing


@pytest.mark.parametrize("mode", ["page", "htmx"])
def test_confirming_creates_the_account_logs_in_and_spends_the_link(client, verify_path, mode):
    headers = {"HX-Request": "true", "HX-Target": "main"} if mode == "htmx" else {}

    done = confirm(client, verify_path, **headers)

    target = body_swap_path(done) if mode == "htmx" else done["Location"]
    assert target == reverse("home")
    bob = User.objects.get(username="bob")
    assert bob.is_active
    assert bob.email == "bob@example.com"
    assert bob.check_password(PASSWORD)
    assert b"Your email address is confirmed. Welcome, bob!" in client.get(target).content
    again = Client().get(verify_path, follow=True)
    assert b"This link can&#x27;t be used" in again.content


def test_a_username_taken_meanwhile_is_a_form_error_on_the_confirmation(
    client, verify_path, mailoutbox
):
    User.objects.create_user(username="bob", email="another@example.com", password="x")

    taken = confirm(client, verify_path)
    chosen = confirm(client, verify_path, username="bob_2")

    assert taken.status_code == HTTPStatus.OK
    assert b"Someone took this username since you signed up. Choose another." in taken.content
    assert chosen.status_code == HTTPStatus.FOUND
    assert User.objects.get(email_canonical="bob@example.com").username == "bob_2"


def test_an_expired_link_cannot_be_used_even_before_it_is_pruned(client, verify_path, settings):
    settings.SIGNUP_CONFIRM_TIMEOUT = 60
    PendingSignup.objects.update(created_at=timezone.now() - timedelta(seconds=61))

    response = confirm(client, verify_path)

    assert b"This link can&#x27;t be used" in response.content
    assert not User.objects.exists()


def test_expired_signups_are_pruned_with_the_task_results(db, verify_path, settings):
    from auth_flow.mail.tasks import pending_signups_prune

    settings.SIGNUP_CONFIRM_TIMEOUT = 60
    fresh = PendingSignup.objects.create(
        username="fresh", email="f@example.com", email_canonical="f@example.com", password="x"
    )
    PendingSignup.objects.exclude(pk=fresh.pk).update(
        created_at=timezone.now() - timedelta(seconds=61)
    )

    assert pending_signups_prune() == 1
    assert list(PendingSignup.objects.all()) == [fresh]


@pytest.mark.parametrize("junk", ["junk/junk", "MQ/confirm", "\u2603/x", "A" * 3000 + "/B"])
def test_junk_confirmation_links_get_the_friendly_page(client, db, junk):
    response = client.get(f"/accounts/verify/{junk}/")
    posted = client.post(f"/accounts/verify/{junk}/")

    assert response.status_code == posted.status_code == HTTPStatus.OK
    assert b"This link can&#x27;t be used" in response.content + posted.content


def test_a_reset_token_does_not_confirm_a_signup(client, db, user, mailoutbox):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    signup(client)
    pending = PendingSignup.objects.get()
    uid = urlsafe_base64_encode(force_bytes(pending.pk))
    response = client.get(f"/accounts/verify/{uid}/{default_token_generator.make_token(user)}/")

    assert b"This link can&#x27;t be used" in response.content


# Accounts staff turned off stay off ---------------------------------------------------


def test_signing_up_with_a_deactivated_accounts_address_revives_nothing(client, user, mailoutbox):
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = signup(client, username="revenant", email=user.email)

    assert response.status_code == HTTPStatus.FOUND  # the same answer as for anyone
    assert mailoutbox == []  # no link, nothing to click
    assert not User.objects.get(pk=user.pk).is_active
    assert not PendingSignup.objects.exists()


def test_a_used_link_stays_dead_after_staff_deactivate_the_account(client, verify_path):
    confirm(client, verify_path)
    User.objects.filter(username="bob").update(is_active=False)

    again = confirm(Client(), verify_path)

    assert b"This link can&#x27;t be used" in again.content
    assert not User.objects.get(username="bob").is_active


@pytest.mark.parametrize("how", ["create_user", "createsuperuser"])
def test_accounts_made_by_staff_or_scripts_count_as_confirmed(db, how, monkeypatch):
    if how == "create_user":
        User.objects.create_user(username="made", email="made@example.com", password=PASSWORD)
    else:
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
        call_command(
            "createsuperuser", username="made", email="made@example.com", interactive=False
        )

    assert User.objects.get(username="made").email_confirmed_at is not None
    assert logs_in("made", PASSWORD)


# Flooding one inbox -------------------------------------------------------------------


@pytest.mark.parametrize("address", ["new@example.com", "alice@example.com"], ids=["new", "taken"])
def test_signup_emails_to_one_address_are_capped(user, mailoutbox, address, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": "100/3600"}

    for n in range(5):
        signup(Client(), username=f"flood{n}", email=address.upper() if n % 2 else address)

    assert len(mailoutbox) == 3  # RATE_LIMIT_SIGNUP_EMAILS: 3 per 15 minutes


def test_signup_emails_to_one_address_are_capped_per_day(db, mailoutbox, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "signup": "100/3600",
        "signup_email_per_address": "100/900",
        "signup_email_per_address_daily": "4/86400",
    }

    for n in range(6):
        signup(Client(), username=f"flood{n}", email="victim@example.com")

    assert len(mailoutbox) == 4


# Two confirmations at once, against a real server -------------------------------------


def browser_confirm(live_server, link: str, *, username: str):
    session = requests.Session()
    page = session.get(live_server.url + link)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    url = page.url
    data = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
    return lambda: session.post(url, data, headers={"Referer": url}, allow_redirects=False)


@pytest.mark.parametrize("trial", range(3))
def test_one_link_confirmed_twice_at_once_makes_one_account(
    live_server, transactional_db, settings, mailoutbox, trial
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    signup(Client())
    link = verify_link_from(mailoutbox[0])

    answers = at_once(
        browser_confirm(live_server, link, username="bob"),
        browser_confirm(live_server, link, username="bob"),
    )

    assert sorted(a.status_code for a in answers) == [HTTPStatus.OK, HTTPStatus.FOUND]
    assert User.objects.filter(email_canonical="bob@example.com").count() == 1


RIVALS = {
    # Two sign-ups for one address: the first confirmed wins, the other link is void.
    "one address": (("first", "same@example.com"), ("second", "SAME@example.com")),
    # Two addresses wanting one username: the second to confirm chooses another.
    "one username": (("twin", "one@example.com"), ("twin", "two@example.com")),
}


@pytest.mark.parametrize("trial", range(2))
@pytest.mark.parametrize(
    ("rivals", "refusal"),
    [
        ("one address", "This link can't be used"),
        ("one username", "Someone took this username since you signed up."),
    ],
)
def test_rival_signups_confirmed_at_once_make_one_account(
    live_server, transactional_db, settings, mailoutbox, rivals, refusal, trial
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    (name_a, email_a), (name_b, email_b) = RIVALS[rivals]
    signup(Client(), username=name_a, email=email_a)
    signup(Client(), username=name_b, email=email_b)
    link_a, link_b = (verify_link_from(m) for m in mailoutbox)

    answers = at_once(
        browser_confirm(live_server, link_a, username=name_a),
        browser_confirm(live_server, link_b, username=name_b),
    )

    assert sorted(a.status_code for a in answers) == [HTTPStatus.OK, HTTPStatus.FOUND]
    (refused,) = [a for a in answers if a.status_code == HTTPStatus.OK]
    assert refusal in refused.text
    assert User.objects.count() == 1
    if rivals == "one address":
        assert not PendingSignup.objects.exists()  # the loser's row went with the win


# Found by the attacker's review of the first version ----------------------------------


def test_the_confirmation_page_shows_nothing_the_signer_typed(client, db, mailoutbox):
    # A "username" that reads as instructions must not appear on the owner's page.
    lure = "Your_temporary_password_is_Kp7mQ2vLzz"
    signup(Client(), username=lure, email="carol@example.com", password="Kp7mQ2vLzz-x-harbour")
    confirm_url = client.get(verify_link_from(mailoutbox[0]))["Location"]

    page = client.get(confirm_url)

    assert b"Confirm your email address" in page.content
    assert lure.encode() not in page.content
    assert b"Kp7mQ2vLzz" not in page.content


@pytest.mark.parametrize("look_alike", ["BOB", "\uff42\uff4f\uff42"], ids=["upper", "fullwidth"])
def test_a_look_alike_of_a_username_taken_meanwhile_is_refused_at_confirmation(
    client, verify_path, look_alike
):
    User.objects.create_user(username="bob", email="another@example.com", password="x")

    response = confirm(client, verify_path, username=look_alike)

    assert b"Someone took this username since you signed up." in response.content
    assert User.objects.count() == 1


@pytest.mark.parametrize("uid", ["%00", "%0d%0aX-Injected:%201", "x%3B%20Domain%3Dattacker.test"])
def test_a_junk_uid_neither_breaks_the_answer_nor_writes_cookie_attributes(client, db, uid):
    client.cookies["verify_token"] = "anything"
    for method in (client.get, client.post):
        response = method(f"/accounts/verify/{uid}/confirm/")

        assert response.status_code == HTTPStatus.OK
        assert b"This link can&#x27;t be used" in response.content
        assert_safe_cookies(response)


def test_after_an_expired_link_signing_up_again_with_the_same_details_works(
    client, verify_path, settings, mailoutbox
):
    # Issue 17's dead end: the page says "sign up again", and the same details were then
    # refused ("A user with that username already exists"). Nothing is reserved now.
    settings.SIGNUP_CONFIRM_TIMEOUT = 60
    PendingSignup.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert b"sign up again" in confirm(client, verify_path).content

    again = signup(client)
    done = confirm(client, verify_link_from(mailoutbox[-1]), username="bob")

    assert again.status_code == HTTPStatus.FOUND
    assert done.status_code == HTTPStatus.FOUND
    assert User.objects.get().username == "bob"
