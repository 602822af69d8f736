"""The site as production serves it: gunicorn, DEBUG off, hashed static files."""

import os
import re
import subprocess
import sys
import urllib.request

import pytest
from django.conf import settings

from auth_flow.devtools.bench import free_port, wait_until_serving


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    """Serve the site as production does: collectstatic, then gunicorn with DEBUG off."""
    port = free_port()
    env = {
        **os.environ,
        # Its own folder: another test process may be collecting at the same time.
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-secret",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
    }
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        env.pop("DATABASE_URL")  # the home page needs no database for an anonymous visit
    run = {"cwd": settings.BASE_DIR, "env": env}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], check=True, **run
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "site_config.wsgi", "-b", f"127.0.0.1:{port}"],
        stderr=subprocess.DEVNULL,
        **run,
    )
    try:
        wait_until_serving(port, process=server, timeout=20)
    except RuntimeError:
        server.kill()
        raise
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(10)


def test_gunicorn_serves_the_site_and_its_static_files_with_debug_off(gunicorn):
    with urllib.request.urlopen(gunicorn + "/") as response:
        page = response.read().decode()
        assert "script-src 'self' 'nonce-" in response.headers["Content-Security-Policy"]

    stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', page)
    assert any("bootstrap.min." in href for href in stylesheets)
    for href in stylesheets:
        # Hashed names from the manifest, served by whitenoise with a long cache life.
        with urllib.request.urlopen(gunicorn + href) as response:
            assert response.status == 200
            assert "max-age=315360000" in response.headers["Cache-Control"]


def test_the_benchmark_finds_the_project_it_starts():
    from auth_flow.devtools import bench

    # It runs manage.py and gunicorn from here (moving it once pointed it at auth_flow/).
    assert (bench.BASE_DIR / "manage.py").is_file()
    assert bench.BASE_DIR == settings.BASE_DIR
