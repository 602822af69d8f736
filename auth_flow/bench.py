"""Benchmark: does a reset request for a real account cost the same as for a stranger?

Starts the site under gunicorn (DEBUG off) with its email worker, sending to a local
SMTP server that takes 250 ms per message like a real provider, then posts to
/accounts/password_reset/ from concurrent clients, alternating rounds of an existing
address and an unknown one. Prints requests/s and median latency for each, and their
ratios, all from this one run. Run it with `make bench`.
"""

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from auth_flow.smtp_sink import SmtpSink

BASE_DIR = Path(__file__).resolve().parent.parent
KNOWN, UNKNOWN = "bench-user@example.com", "nobody-here@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(port: int, *, process: subprocess.Popen, timeout: float = 30) -> None:
    """Return once something accepts connections on the port; fail if the server dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no server came up on port {port}")


def csrf_for(port: int) -> tuple[str, str]:
    """Fetch the form once: the CSRF cookie and form token every client then reuses."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/accounts/password_reset/")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    return cookie, token


PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/done/",
]


def page_sizes(port: int) -> None:
    """Print the bytes of each page's htmx partial against its full page."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    print("Response sizes (body bytes), full page vs htmx partial:")
    for path in PAGES:
        sizes = []
        for headers in ({}, {"HX-Request": "true"}):
            conn.request("GET", path, headers=headers)
            sizes.append(len(conn.getresponse().read()))
        full, partial = sizes
        print(
            f"  {path:32} full {full:6d}  partial {partial:6d}  partial/full {partial / full:.2f}"
        )
    conn.close()


def load(*, port: int, email: str, clients: int, requests: int, csrf: tuple[str, str]):
    """Post `requests` resets per client concurrently; return latencies, seconds, errors."""
    cookie, token = csrf
    body = urlencode({"csrfmiddlewaretoken": token, "email": email})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookie}",
        "Origin": f"http://127.0.0.1:{port}",
        "User-Agent": "bench",
    }
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], []
        for _ in range(requests):
            start = time.perf_counter()
            conn.request("POST", "/accounts/password_reset/", body, headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 302:
                bad.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="per client per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--smtp-delay", type=float, default=0.25)
    args = parser.parse_args()

    sink = SmtpSink(delay=args.smtp_delay).start()
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "EMAIL_PROVIDER": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
        # The load comes from one IP at one address: lift the limits that would stop it.
        "RATE_LIMIT_PASSWORD_RESET": "1000000/60",
        "RATE_LIMIT_RESET_EMAILS": "1000000/60",
    }
    manage = [sys.executable, "manage.py"]
    quiet = {"cwd": BASE_DIR, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--no-input"], **quiet)
    subprocess.run([*manage, "collectstatic", "--no-input"], **quiet)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            f"from auth_flow.models import User; "
            f"User.objects.create_user('bench', '{KNOWN}', 'bench-password-1')",
        ],
        **quiet,
    )
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "site_config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.gunicorn_workers),
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    worker = subprocess.Popen(
        [*manage, "send_worker", "--no-reload", "--interval", "0.2", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
    )
    try:
        wait_until_serving(port, process=gunicorn)
        page_sizes(port)
        csrf = csrf_for(port)
        load(port=port, email=UNKNOWN, clients=args.clients, requests=5, csrf=csrf)  # warm-up
        results = {KNOWN: ([], 0.0, []), UNKNOWN: ([], 0.0, [])}
        # Alternate rounds so drift in the machine's load hits both sides alike.
        for _ in range(args.rounds):
            for email in (KNOWN, UNKNOWN):
                latencies, seconds, errors = load(
                    port=port,
                    email=email,
                    clients=args.clients,
                    requests=args.requests,
                    csrf=csrf,
                )
                total = results[email]
                results[email] = (total[0] + latencies, total[1] + seconds, total[2] + errors)
    finally:
        gunicorn.terminate()
        worker.terminate()
        gunicorn.wait(10)
        worker.wait(10)
        sink.stop()

    rows = {}
    print(
        f"POST /accounts/password_reset/: {args.clients} clients, {args.rounds} rounds x "
        f"{args.requests} requests each, gunicorn {args.gunicorn_workers} workers, "
        f"SMTP answering after {args.smtp_delay * 1000:.0f} ms"
    )
    for label, email in (("existing address", KNOWN), ("unknown address", UNKNOWN)):
        latencies, seconds, errors = results[email]
        rps, median = len(latencies) / seconds, statistics.median(latencies) * 1000
        rows[email] = (rps, median)
        print(
            f"  {label:17} {rps:8.1f} req/s   median {median:6.1f} ms   "
            f"p95 {statistics.quantiles(latencies, n=20)[18] * 1000:6.1f} ms   "
            f"non-302 answers: {len(errors)}"
        )
    throughput_ratio = rows[KNOWN][0] / rows[UNKNOWN][0]
    latency_ratio = rows[KNOWN][1] / rows[UNKNOWN][1]
    print(f"  throughput ratio existing/unknown: {throughput_ratio:.2f}  (target >= 0.80)")
    print(f"  median latency ratio existing/unknown: {latency_ratio:.2f}  (target 0.90-1.10)")
    print(f"  emails delivered to the SMTP sink during the run: {len(sink.messages)}")
    ok = (
        throughput_ratio >= 0.8
        and 0.9 <= latency_ratio <= 1.1
        and not any(results[email][2] for email in results)
    )
    print("  PASS" if ok else "  FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
