"""The reset journey against the stack a user gets in production.

gunicorn with DEBUG off and static files from whitenoise, the real `send_worker` process
and its queue in the database, and an SMTP server: the email is read from that server,
its HTML button is clicked, the new password is set and used. The other journeys run
in-process with the immediate task backend and `mailoutbox`.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from auth_flow.devtools.bench import free_port, wait_until_serving
from auth_flow.devtools.smtp_sink import SmtpSink
from auth_flow.tests.test_tasks import wait_for
from e2e.test_journeys import NEW_PASSWORD, PASSWORD, label

BASE_DIR = Path(__file__).resolve().parent.parent
ACCOUNTS = {"js": "pat", "no-js": "sam"}
# Long enough for a worker on a busy CI machine, far below what a person would accept.
EMAIL_WITHIN_SECONDS = 30


@dataclass
class Stack:
    url: str
    sink: SmtpSink

    def email_to(self, address: str, *, subject: str) -> EmailMessage:
        """Wait for the worker to deliver an email with this subject to this address."""
        deadline = time.monotonic() + EMAIL_WITHIN_SECONDS
        while time.monotonic() < deadline:
            for message in self.sink.messages:
                if message["To"] == address and subject in message["Subject"]:
                    return message
            time.sleep(0.05)  # the worker is another process: there is no event to await
        raise AssertionError(f"no email {subject!r} to {address} in {EMAIL_WITHIN_SECONDS} s")


def health_wait(*, url: str, timeout: float = 60) -> None:
    """Wait until gunicorn's workers answer: the master listens before they have booted."""

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health/", timeout=5) as response:
                return response.status == HTTPStatus.OK
        except OSError:
            return False

    wait_for(answers, timeout=timeout)


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Start gunicorn (DEBUG off, whitenoise) and send_worker on a database of their own."""
    workdir = tmp_path_factory.mktemp("production")
    sink = SmtpSink().start()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "e2e-production-stack-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "EMAIL_PROVIDER": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
    }
    for name in ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]
    quiet = {"cwd": BASE_DIR, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--no-input"], **quiet)
    subprocess.run([*manage, "collectstatic", "--no-input"], **quiet)
    accounts = "".join(
        f"User.objects.create_user({name!r}, '{name}@example.com', {PASSWORD!r})\n"
        for name in ACCOUNTS.values()
    )
    subprocess.run(
        [*manage, "shell", "-c", f"from auth_flow.models import User\n{accounts}"], **quiet
    )
    serve = ["site_config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *serve, "--log-level", "warning"], cwd=BASE_DIR, env=env
    )
    worker = subprocess.Popen(
        [*manage, "send_worker", "--no-reload", "--processes", "1", "--concurrency", "2"],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        wait_until_serving(port, process=gunicorn)
        url = f"http://127.0.0.1:{port}"
        health_wait(url=url)
        yield Stack(url=url, sink=sink)
    finally:
        for process in (gunicorn, worker):
            process.terminate()
        gunicorn.wait(10)
        worker.wait(30)
        sink.stop()


def test_reset_through_gunicorn_the_worker_and_smtp(
    page: Page, stack: Stack, javascript: bool, reload_watch, axe
):
    name = ACCOUNTS["js" if javascript else "no-js"]
    address = f"{name}@example.com"
    page.goto(f"{stack.url}/accounts/password_reset/")
    # Static files are served by whitenoise under hashed names, and the stylesheet applies.
    stylesheet = page.locator("link[rel=stylesheet][href*='css/site.']")
    expect(stylesheet).to_have_attribute(
        "href", re.compile(r"/static/css/site\.[0-9a-f]{12}\.css")
    )
    expect(page.get_by_role("link", name="Skip to content")).not_to_be_in_viewport()

    reload_watch.arm()
    page.get_by_label(label("Email")).fill(address.upper())
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    reload_watch.assert_no_reload()
    axe(page, "production stack: reset: check your email")

    email = stack.email_to(address, subject="Reset your")
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    # The link opens its page in the email's language.
    (link,) = re.findall(rf"{re.escape(stack.url)}/accounts/reset/\S+/\?lang=en", text)
    assert f'href="{link}"' in html  # the button and the text part carry the same link

    # Open the HTML part as a mail client shows it, and press its button.
    page.set_content(html)
    page.get_by_role("link", name="Choose a new password").click()
    expect(page).to_have_url(re.compile(r"/accounts/reset/[^/]+/set-password/$"))
    assert link not in page.url  # the token leaves the address bar after the first redirect
    page.get_by_label(label("New password")).fill(NEW_PASSWORD)
    page.get_by_label(label("New password confirmation")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password set")

    # The worker also tells the owner that the password changed.
    stack.email_to(address, subject="password was changed")

    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label(label("Username or email")).fill(name)
    page.get_by_label(label("Password")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")

    # DEBUG is off: a wrong address gets the site's own page, no traceback or URL list.
    response = page.goto(f"{stack.url}/accounts/no-such-page/")
    assert response.status == HTTPStatus.NOT_FOUND
    expect(page.get_by_text("URLconf")).to_have_count(0)

    # The used link is dead.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This reset link can't be used")
