"""A failing journey leaves QA what they need to see why: trace, screenshot and HTML."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

FAILING_TEST = """
from playwright.sync_api import expect


def test_a_heading_that_is_not_there(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("heading", name="Not on this page")).to_be_visible(timeout=500)
"""


@pytest.mark.parametrize("javascript", [True])  # the failing test runs with and without
def test_a_failed_test_keeps_its_trace_screenshot_and_html(tmp_path: Path):
    (tmp_path / "test_fails.py").write_text(FAILING_TEST)
    # The suite's own fixtures and hooks, as a conftest there (a plugin would lose to
    # pytest-playwright's fixtures).
    (tmp_path / "conftest.py").write_text(
        "from e2e.conftest import *  # noqa: F403\n"
        "from e2e.conftest import _short_timeouts, _site_settings  # noqa: F401\n"
    )
    results = tmp_path / "test-results"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(BASE_DIR / "pyproject.toml"),
            "--rootdir",
            str(BASE_DIR),
            f"--output={results}",
            "-q",
            str(tmp_path / "test_fails.py"),
        ],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SECRET_KEY": "test-only",
            "DJANGO_DEBUG": "0",
            # Its own test database: this run's is in use.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2 failed" in run.stdout, run.stdout + run.stderr  # with JS and without
    folders = sorted(results.iterdir())  # one per test
    assert [folder.name for folder in folders] == [
        "test-a-heading-that-is-not-there-js-chromium",
        "test-a-heading-that-is-not-there-no-js-chromium",
    ]
    for folder in folders:
        kept = {path.name for path in folder.iterdir()}
        assert {"trace.zip", "test-failed-1.png", "page-1.html"} <= kept, kept
        assert "<h1 tabindex" in (folder / "page-1.html").read_text()  # as it was at the end
        with zipfile.ZipFile(folder / "trace.zip") as trace:
            assert any(name.endswith(".trace") for name in trace.namelist())
