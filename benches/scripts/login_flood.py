#!/usr/bin/env python3
"""A sign-in flood against a local droply: --logins (default 500) parallel
POST /v1/auth/login with random emails and passwords, released at once.

Every sign-in runs argon2 (19 MiB, tens of ms) unless it is refused first, so this is
what the password-hashing permits, the per-address rate limit on sign-ins and the
request budget have to hold. --sources spreads the sign-ins over that many loopback
addresses (127.0.1.1, 127.0.1.2, ... by default; --first-address): 1 is one client (the per-address rate limit
answers most with 429), --sources 500 stands for 500 clients (only the hashing permits
stand in the way). Meanwhile GET /health is polled every 50 ms and the server's VmRSS
sampled (--pid). Bounded: at most --logins threads (capped at 2,000), each with one
request and a 30 s timeout; --rounds floods (capped at 10) one after another.

Prints one JSON object: answers by status and code, sign-in latencies, /health
latencies and failures, and the server's RSS (start, peak, end).

    python3 benches/scripts/login_flood.py --port 8080 --pid "$(pgrep -n droply)" --sources 500
"""

import argparse
import ipaddress
import json
import secrets
import threading
import time

from overload_probe import HealthPoller, RssSampler, exchange, print_report, summary_ms


def source_address(first, index, sources):
    """The loopback address of client `index % sources`: `first`, the next, ..."""
    return str(ipaddress.IPv4Address(first) + index % sources)


def login(host, port, source, barrier, results):
    email = f"flood-{secrets.token_hex(6)}@example.com"
    body = json.dumps({"email": email, "password": secrets.token_hex(8)}).encode()
    request = (
        f"POST /v1/auth/login HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    try:
        barrier.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass
    started = time.perf_counter()
    try:
        answer = exchange(host, port, request, timeout=30, source=source)
        elapsed = time.perf_counter() - started
        status = int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0
        code = ""
        if b"\r\n\r\n" in answer and status != 200:
            try:
                code = json.loads(answer.split(b"\r\n\r\n", 1)[1]).get("code", "")
            except ValueError:
                code = "?"
        results.append((status, code, elapsed))
    except OSError as err:
        results.append((0, type(err).__name__, time.perf_counter() - started))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--pid", type=int, help="the server's pid, for its VmRSS")
    parser.add_argument("--logins", type=int, default=500)
    parser.add_argument("--sources", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--first-address", default="127.0.1.1",
                        help="the first client address (loopback)")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost"):
        parser.error("loopback only")
    logins = min(args.logins, 2000)
    rounds = min(max(args.rounds, 1), 10)
    sources = max(1, min(args.sources, 60_000))
    last = ipaddress.IPv4Address(args.first_address) + sources - 1
    if not (ipaddress.IPv4Address(args.first_address).is_loopback and last.is_loopback):
        parser.error("client addresses must be loopback (127.0.0.0/8)")

    rss = RssSampler(args.pid) if args.pid else None
    if rss:
        rss.start()
    health = HealthPoller(args.host, args.port, every=0.05)
    health.start()
    time.sleep(0.5)

    results = []
    started = time.perf_counter()
    for _ in range(rounds):
        barrier = threading.Barrier(logins)
        threads = [
            threading.Thread(
                target=login,
                args=(args.host, args.port, source_address(args.first_address, i, sources),
                      barrier, results),
                daemon=True,
            )
            for i in range(logins)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    wall = time.perf_counter() - started
    time.sleep(0.5)
    health.stop()
    if rss:
        rss.stop()

    answers = {}
    for status, code, _ in results:
        key = f"{status} {code}".strip()
        answers[key] = answers.get(key, 0) + 1
    report = {
        "flood": {
            "logins": logins * rounds,
            "sources": sources,
            "wall_s": round(wall, 2),
            "answers": answers,
            "latency": summary_ms([elapsed for _, _, elapsed in results]),
            "latency_of_hashed_401": summary_ms(
                [elapsed for status, _, elapsed in results if status == 401]),
            "latency_of_refused": summary_ms(
                [elapsed for status, _, elapsed in results if status in (429, 503)]),
        },
    }
    print_report(report, health, rss)


if __name__ == "__main__":
    main()
