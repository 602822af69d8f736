"""Benchmark: equal cost for known and unknown addresses, and how fast email arrives.

Starts the site under gunicorn (DEBUG off) with its email worker, sending to a local
SMTP server (its own process) that takes 250 ms per message like a real provider, on
SQLite and on PostgreSQL (BENCH_POSTGRES_URL, else TEST_POSTGRES_URL, else this machine's
server; skipped with a reason when none answers), and in each run:

- throughput: GET of the reset form, then POSTs of an existing and an unknown address
  in alternating rounds; requests/s, latencies and their ratios;
- burst: N reset requests for N different accounts at once; request p50/p95, request
  to email accepted by the provider p50/p95/max, emails/s, and every email once.

All figures are ratios or latencies from one run (this machine is noisy). `make bench`.
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

BASE_DIR = Path(__file__).resolve().parents[2]  # the repository: manage.py, site_config
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


def form_headers(*, port: int, cookie: str) -> dict[str, str]:
    """Return the headers a browser sends with a form post (CSRF cookie and origin)."""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={cookie}",
        "Origin": f"http://127.0.0.1:{port}",
        "User-Agent": "bench",
    }


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
        for headers in ({}, {"HX-Request": "true", "HX-Target": "main"}):
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
    headers = form_headers(port=port, cookie=cookie)
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


def mixed_load(*, port: int, clients: int, cycles: int, csrf) -> dict[str, list[float]]:
    """Each client cycles GET form, POST existing, POST unknown; return latencies by kind.

    Interleaved, so all three meet the same background (the worker sending the existing
    address's emails): rounds of one kind would hand one kind the other's backlog.
    """
    cookie, token = csrf
    post_headers = form_headers(port=port, cookie=cookie)
    kinds = {"get": [], KNOWN: [], UNKNOWN: []}
    errors: list[int] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = {kind: [] for kind in kinds}
        order = list(kinds)
        for cycle in range(cycles):
            for step in range(3):
                kind = order[(offset + cycle + step) % 3]
                start = time.perf_counter()
                if kind == "get":
                    conn.request("GET", "/accounts/password_reset/")
                else:
                    body = urlencode({"csrfmiddlewaretoken": token, "email": kind})
                    conn.request("POST", "/accounts/password_reset/", body, post_headers)
                response = conn.getresponse()
                response.read()
                mine[kind].append(time.perf_counter() - start)
                if response.status != (200 if kind == "get" else 302):
                    with lock:
                        errors.append(response.status)
        conn.close()
        with lock:
            for kind, latencies in mine.items():
                kinds[kind].extend(latencies)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds["errors"] = errors
    return kinds


class SinkProcess:
    """The SMTP sink in a process of its own, like a provider: it costs the site nothing."""

    def __init__(self, *, delay: float, workdir: Path):
        self.port = free_port()
        self.log = workdir / f"sink-{self.port}.log"
        self.log.touch()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "auth_flow.devtools.smtp_sink",
                "--port",
                str(self.port),
                "--delay",
                str(delay),
                "--log",
                str(self.log),
            ],
            cwd=BASE_DIR,
        )
        wait_until_serving(self.port, process=self.process)

    def deliveries(self) -> list[tuple[float, str]]:
        """Return (accepted at, recipient) for every message the sink accepted so far."""
        lines = self.log.read_text().splitlines()
        return [(float(when), to) for when, _, to in (line.partition(" ") for line in lines)]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def burst(*, port: int, sink: SinkProcess, count: int, clients: int, csrf) -> dict:
    """Ask for `count` resets for `count` accounts at once; time each until accepted."""
    cookie, token = csrf
    headers = form_headers(port=port, cookie=cookie)
    already = len(sink.deliveries())
    addresses = [f"burst-{n}@example.com" for n in range(count)]
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    todo = list(addresses)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if not todo:
                    break
                address = todo.pop()
            body = urlencode({"csrfmiddlewaretoken": token, "email": address})
            start, wall = time.perf_counter(), time.time()
            conn.request("POST", "/accounts/password_reset/", body, headers)
            response = conn.getresponse()
            response.read()
            with lock:
                sent_at[address] = wall
                latencies.append(time.perf_counter() - start)
                if response.status != 302:
                    errors.append(response.status)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    first = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + max(60, count / 5)
    while len(sink.deliveries()) - already < count and time.monotonic() < deadline:
        time.sleep(0.05)
    received = sink.deliveries()[already:]
    per_address: dict[str, list[float]] = {}
    for accepted, to in received:
        per_address.setdefault(to, []).append(accepted)
    waits = [min(per_address[a]) - sent_at[a] for a in addresses if a in per_address]
    last = max((accepted for accepted, _ in received), default=first)
    return {
        "requests": latencies,
        "waits": waits,
        "delivered": sum(1 for a in addresses if a in per_address),
        "twice": sum(1 for times in per_address.values() if len(times) > 1),
        "per_second": len(received) / (last - first) if received else 0.0,
        "errors": errors,
    }


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))] if values else 0


def database_urls(workdir: Path) -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL in a fresh database when a server answers."""
    urls = [("SQLite", f"sqlite:///{workdir / 'bench.sqlite3'}")]
    server = (
        os.environ.get("BENCH_POSTGRES_URL")
        or os.environ.get("TEST_POSTGRES_URL")
        or "postgres://postgres@127.0.0.1:5432/postgres"
    )
    if server:
        try:
            import psycopg

            name = f"bench_{os.getpid()}"
            with psycopg.connect(server, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
                conn.execute(f"CREATE DATABASE {name}")
            urls.append(("PostgreSQL", server.rsplit("/", 1)[0] + f"/{name}"))
        except Exception as error:
            print(f"PostgreSQL skipped: nothing answers at {server} ({type(error).__name__}).")
    return urls


def worker_defaults(env: dict) -> str:
    """Say how many processes and threads send_worker runs with these settings."""
    shown = (
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django.conf import settings as s; "
                "print(s.EMAIL_WORKER_PROCESSES, s.EMAIL_WORKER_CONCURRENCY)",
            ],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.splitlines()[-1]
        .split()
    )
    return f"{shown[0]} process(es) x {shown[1]} threads"


def site_run(*, label: str, database_url: str, args, workdir: Path) -> bool:
    """Start the stack on one database, run every scenario, print them; say if targets hold."""
    sink = SinkProcess(delay=args.smtp_delay, workdir=workdir)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "EMAIL_PROVIDER": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
        # The load comes from one IP at one address: lift the limits that would stop it.
        "RATE_LIMIT_PASSWORD_RESET": "1000000/60",
        "RATE_LIMIT_RESET_EMAILS": "1000000/60",
    }
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    quiet = {"cwd": BASE_DIR, "env": env, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--no-input"], **quiet)
    subprocess.run([*manage, "collectstatic", "--no-input"], **quiet)
    largest = max(args.burst)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth.hashers import make_password\n"
            "from auth_flow.models import User\n"
            "hashed = make_password('bench-password-1')\n"
            f"User.objects.create_user('bench', '{KNOWN}', 'bench-password-1')\n"
            "User.objects.bulk_create(User(username=f'burst{n}', password=hashed, "
            "email=f'burst-{n}@example.com', email_canonical=f'burst-{n}@example.com') "
            f"for n in range({largest}))",
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
        [*manage, "send_worker", "--no-reload", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(port, process=gunicorn)
        print(
            f"\n=== {label}: gunicorn {args.gunicorn_workers} workers, send_worker at its "
            f"defaults ({worker_defaults(env)}), SMTP answering after "
            f"{args.smtp_delay * 1000:.0f} ms"
        )
        if label == "SQLite":
            page_sizes(port)
        csrf = csrf_for(port)
        load(port=port, email=UNKNOWN, clients=args.clients, requests=5, csrf=csrf)  # warm-up
        mixed = mixed_load(port=port, clients=args.clients, cycles=args.cycles, csrf=csrf)
        # Let the throughput rounds' emails drain before timing a burst.
        drain = time.monotonic() + 120
        expected = len(mixed[KNOWN])  # the warm-up's unknown address gets no email
        while len(sink.deliveries()) < expected and time.monotonic() < drain:
            time.sleep(0.1)
        bursts = {
            n: burst(port=port, sink=sink, count=n, clients=16, csrf=csrf) for n in args.burst
        }
    finally:
        gunicorn.terminate()
        worker.terminate()
        gunicorn.wait(10)
        worker.wait(30)
        sink.stop()

    # Little's law: a closed loop of C clients sustains C / mean latency requests/s.
    print(
        f"Throughput, {args.clients} clients each cycling GET form / POST existing / POST "
        f"unknown {args.cycles} times, the worker sending meanwhile:"
    )
    rps = {}
    for name, kind in (
        ("GET reset form", "get"),
        ("POST existing", KNOWN),
        ("POST unknown", UNKNOWN),
    ):
        latencies = mixed[kind]
        rps[kind] = args.clients / statistics.fmean(latencies)
        median, p95 = statistics.median(latencies) * 1000, percentile(latencies, 95) * 1000
        print(f"  {name:15} {rps[kind]:8.1f} req/s   median {median:6.1f} ms   p95 {p95:6.1f} ms")
    known_vs_unknown = rps[KNOWN] / rps[UNKNOWN]
    post_vs_get = min(rps[KNOWN], rps[UNKNOWN]) / rps["get"]
    print(
        f"  existing/unknown {known_vs_unknown:.2f} (target 0.80-1.25); slower POST/GET "
        f"{post_vs_get:.2f} (target >= 0.50); unexpected answers: {len(mixed['errors'])}"
    )
    ok = 0.8 <= known_vs_unknown <= 1.25 and post_vs_get >= 0.5 and not mixed["errors"]
    print("Burst: N reset requests for N different accounts, 16 clients")
    print("      N | request p50  p95 | to inbox p50   p95    max | emails/s | delivered twice")
    for n, r in bursts.items():
        print(
            f"  {n:5d} | {percentile(r['requests'], 50) * 1000:7.0f} ms "
            f"{percentile(r['requests'], 95) * 1000:4.0f} ms | "
            f"{percentile(r['waits'], 50):8.2f} s {percentile(r['waits'], 95):5.2f} s "
            f"{max(r['waits'], default=0):5.2f} s | {r['per_second']:8.1f} | "
            f"{r['delivered']:4d}/{n} {r['twice']:5d}"
        )
        if n == 200:
            met = (
                percentile(r["waits"], 95) <= 2
                and r["per_second"] >= 50
                and r["delivered"] == n
                and not r["twice"]
                and not r["errors"]
            )
            print(
                f"  burst of 200 targets (p95 to inbox <= 2 s, >= 50 emails/s, all once): "
                f"{'met' if met else 'NOT met'}"
            )
            ok = ok and met
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--cycles", type=int, default=60, help="per client")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--smtp-delay", type=float, default=0.25)
    parser.add_argument("--burst", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--databases", nargs="+", default=["SQLite", "PostgreSQL"])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    results = {
        label: site_run(label=label, database_url=url, args=args, workdir=workdir)
        for label, url in database_urls(workdir)
        if label in args.databases
    }
    print(
        "\n" + "  ".join(f"{label}: {'PASS' if ok else 'FAIL'}" for label, ok in results.items())
    )
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
