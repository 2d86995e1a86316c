"""HTTP benchmark of ``expediter serve`` on SQLite: creation rate, list latency, memory.

Prints figures; asserts nothing. Run with ``make bench`` or
``.venv/bin/python bench/api.py [--tickets 100000]``.

Creation is measured twice: with ``http.client``, whose own CPU per request
takes a share of a 2-core machine from the server, and with a plain-socket
load generator that hardly does (:class:`SocketCreator`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPEDITER = [sys.executable, "-m", "expediter"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*EXPEDITER, *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def seed(env: dict[str, str], count: int) -> None:
    """Bulk-load ``count`` tickets directly (a benchmark fixture, not a desk operation)."""
    code = f"""
import django, datetime as dt, random
django.setup()
from django.db import connection, transaction
from expediter.staff.models import User
from expediter.tickets.models import Ticket, TicketSearchText, TicketNumber
from expediter.sla.models import SlaClock, SlaPolicy
rng = random.Random(7)
policy = SlaPolicy.objects.get(name="Standard")
OPEN = {{"new", "assigned", "in_progress"}}
requesters = list(User.objects.filter(role="requester"))
team = User.objects.get(email="agent@bench.example").memberships.get().team
now = dt.datetime.now(dt.UTC)
STATUSES = ["new", "assigned", "in_progress", "resolved"]
words = "printer vpn laptop outlook password screen wifi badge invoice teams".split()
start = (Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
batch = 5000
for offset in range(0, {count}, batch):
    with transaction.atomic():
        rows = []
        for i in range(offset, min(offset + batch, {count})):
            when = now - dt.timedelta(minutes=({count} - i))
            rows.append(Ticket(number=start + i, subject=f"{{rng.choice(words)}} issue {{i}}",
                description="bench", status=rng.choice(STATUSES),
                requester=rng.choice(requesters), team=team if i % 3 else None,
                created_at=when, updated_at=when, priority=rng.randint(1, 4)))
        for ticket in rows:
            if ticket.status in OPEN:  # what the SLA engine would store: a running clock
                ticket.sla_due_at = ticket.created_at + dt.timedelta(hours=rng.randint(1, 48))
        created = Ticket.objects.bulk_create(rows)
        TicketSearchText.objects.bulk_create(
            [TicketSearchText(ticket=t, text=t.subject) for t in created])
        SlaClock.objects.bulk_create([
            SlaClock(ticket=t, kind="resolution", policy=policy, calendar_id=policy.calendar_id,
                     status="running", target_seconds=86400, started_at=t.created_at,
                     running_since=t.created_at, remaining_seconds=86400, due_at=t.sla_due_at,
                     warn_at=t.sla_due_at - dt.timedelta(hours=1), breach_at=t.sla_due_at,
                     updated_at=t.created_at)
            for t in created if t.sla_due_at is not None])
TicketNumber.objects.update_or_create(id=1, defaults={{"value": start + {count}}})
from expediter.core.tasks import database_optimize
database_optimize()  # what the worker's hourly job does
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def session_cookie(env: dict[str, str], email: str) -> str:
    code = f"""
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from expediter.staff.models import User
user = User.objects.get(email="{email}")
s = SessionStore()
s[SESSION_KEY] = str(user.pk)
s[BACKEND_SESSION_KEY] = "expediter.staff.auth.EmailBackend"
s[HASH_SESSION_KEY] = user.get_session_auth_hash()
s.create()
print(s.session_key)
"""
    return subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


class Client:
    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers

    def request(self, method: str, path: str, body: object | None = None) -> tuple[int, bytes]:
        data = json.dumps(body) if body is not None else None
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        found.append(current)
        pending.extend(int(child) for child in children)
    return found


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree_memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of the process tree in kB.

    RSS counts the pages the gunicorn workers share with their master (the
    application loaded before the fork) once per process; PSS splits each
    shared page between the processes that map it, so it adds up to what the
    tree really occupies.
    """
    pids = _tree(pid)
    rss = sum(_field_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
    pss = sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    return rss, pss


class RssWatcher(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_pss, self.running = pid, 0, 0, True

    def run(self) -> None:
        while self.running:
            rss, pss = tree_memory_kb(self.pid)
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            time.sleep(0.2)


class SocketCreator:
    """Creates tickets over plain sockets, as a load generator written in C would.

    ``http.client`` parses each response's headers with the ``email``
    package and takes about a millisecond and a half of CPU per request, on
    cores it shares with the server it measures; this sends prepared bytes,
    reads the answer until the server closes, and checks its status and body.
    """

    def __init__(self, port: int, token: str) -> None:
        self.address = ("127.0.0.1", port)
        self.head = (
            f"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Connection: close\r\nContent-Length: "
        ).encode()

    def request(self, method: str, path: str, body: object | None = None) -> tuple[int, bytes]:
        assert (method, path) == ("POST", "/api/v1/tickets")
        data = json.dumps(body).encode()
        with socket.create_connection(self.address, timeout=60) as sock:
            sock.sendall(b"%s%d\r\n\r\n%s" % (self.head, len(data), data))
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        head, _, content = b"".join(chunks).partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status == 201:
            assert json.loads(content)["number"] > 0
        return status, content


def create_rate(
    port: int, token: str, clients: int, per_client: int, *, sockets: bool = False
) -> float:
    def work() -> None:
        client: Client | SocketCreator = (
            SocketCreator(port, token)
            if sockets
            else Client(port, {"Authorization": f"Bearer {token}"})
        )
        for i in range(per_client):
            status, _ = client.request(
                "POST", "/api/v1/tickets", {"subject": f"Bench {i}", "description": "created"}
            )
            assert status == 201, status

    threads = [threading.Thread(target=work) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients * per_client / (time.perf_counter() - start)


def latency(client: Client, path: str, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = client.request("GET", path)
        samples.append((time.perf_counter() - start) * 1000)
        assert status == 200, (status, path)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def single_create_latency(port: int, token: str, n: int) -> float:
    client = Client(port, {"Authorization": f"Bearer {token}"})
    samples = []
    for i in range(n):
        start = time.perf_counter()
        client.request("POST", "/api/v1/tickets", {"subject": f"One {i}", "description": "x"})
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="expediter-bench-")
    env = {
        **os.environ,
        "EXPEDITER_DATA_DIR": data_dir,
        "EXPEDITER_FAST_HASHER": "1",
        "DJANGO_SETTINGS_MODULE": "expediter.config.settings",
    }
    env.pop("DATABASE_URL", None)
    cli(env, "migrate", "-v0")
    cli(
        env,
        "user",
        "add",
        "--email",
        "agent@bench.example",
        "--name",
        "Agent",
        "--role",
        "agent",
        "--team",
        "Desk",
    )
    cli(
        env,
        "user",
        "add",
        "--email",
        "lead@bench.example",
        "--name",
        "Lead",
        "--role",
        "lead",
        "--team",
        "Desk",
    )
    for i in range(50):
        cli(env, "user", "add", "--email", f"r{i}@bench.example", "--name", f"R {i}")
    # A desk without an SLA would flatter creation: every ticket here starts two clocks.
    cli(
        env,
        "calendar",
        "add",
        "--name",
        "Office",
        "--time-zone",
        "Europe/Paris",
        "--hours",
        "mon-fri 08:00-18:00",
        "--country",
        "FR",
    )
    cli(
        env,
        "sla",
        "policy",
        "add",
        "--name",
        "Standard",
        "--calendar",
        "Office",
        "--first-response",
        "240",
        "--resolution",
        "1440",
    )
    token = cli(env, "token", "create", "--email", "r0@bench.example")
    agent_token = cli(env, "token", "create", "--email", "agent@bench.example")
    port = free_port()
    server = subprocess.Popen([*EXPEDITER, "serve", "--port", str(port), "--no-worker"], env=env)
    watcher = RssWatcher(server.pid)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        watcher.start()
        single_create_latency(port, token, 20)  # warm up
        print(f"create p50 latency, 1 client: {single_create_latency(port, token, 200):.1f} ms")
        print(f"tickets created/s, 1 client:  {create_rate(port, token, 1, 300):.0f}")
        print(f"tickets created/s, 8 clients: {create_rate(port, token, 8, 100):.0f}")
        for clients in (1, 8):
            rate = create_rate(port, token, clients, 800 // clients, sockets=True)
            print(f"tickets created/s, {clients} client(s), socket load generator: {rate:.0f}")
        created = 20 + 200 + 300 + 800 + 800 + 800
        seed(env, args.tickets)
        print(f"database holds {args.tickets + created} tickets")
        api = Client(port, {"Authorization": f"Bearer {agent_token}"})
        _, body = api.request("GET", "/api/v1/tickets?limit=50")
        cursor = json.loads(body)["next_cursor"]
        deep = None
        for _ in range(200):  # walk deep into the list
            _, body = api.request("GET", f"/api/v1/tickets?limit=200&cursor={cursor}")
            cursor = json.loads(body)["next_cursor"] or cursor
            deep = cursor
        first = latency(api, "/api/v1/tickets", 100)
        deep_l = latency(api, f"/api/v1/tickets?cursor={deep}", 100)
        search = latency(api, "/api/v1/tickets?q=printer", 50)
        print(f"GET /api/v1/tickets first page: p50 {first[0]:.1f} ms  p95 {first[1]:.1f} ms")
        print(f"GET /api/v1/tickets deep cursor: p50 {deep_l[0]:.1f} ms  p95 {deep_l[1]:.1f} ms")
        print(f"GET /api/v1/tickets?q=printer: p50 {search[0]:.1f} ms  p95 {search[1]:.1f} ms")
        cookie = session_cookie(env, "lead@bench.example")
        web = Client(port, {"Cookie": f"sessionid={cookie}"})
        for name in ("open", "team"):
            path = f"/queues/{name}"
            status, _ = web.request("GET", path)
            if status == 200:
                page = latency(web, path, 50)
                print(f"agent queue page {path}: p50 {page[0]:.1f} ms  p95 {page[1]:.1f} ms")
            else:
                print(f"agent queue page {path}: HTTP {status}")
        print(
            f"peak memory of expediter serve (master and workers): "
            f"RSS sum {watcher.peak / 1024:.0f} MB, PSS sum {watcher.peak_pss / 1024:.0f} MB"
        )
    finally:
        watcher.running = False
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
