#!/usr/bin/env python3
"""Slowloris against a local droply: many connections that never finish their headers.

Opens --connections (default 3,000) connections to 127.0.0.1:--port, each sending the
start of a request ("GET /health HTTP/1.1", "Host: ...") and then one more header line
every --trickle seconds, never the blank line that ends the headers. As the classic tool
does, connections the server closed are opened again at every trickle (--reopen tick,
the default), so the attack keeps its size for the whole run; --reopen now replaces each
at once (a connection flood once the server makes room by closing them), --reopen never
lets the attack shrink. Meanwhile GET /health is polled every 50 ms on fresh connections
and the server's VmRSS sampled (--pid). Bounded: at most --connections sockets, at most
--duration seconds (capped at 120), loopback only.

Prints one JSON object: the /health latencies (p50, p99, max) and failures, the server's
RSS (start, peak, end), and what happened to the attack's connections: how many the
server closed, how long they lived (the header read timeout bounds that), how many were
closed within 100 ms (refused at once), and how many outlived
--header-timeout + 1 s (should be none).

    python3 benches/scripts/slowloris.py --port 8080 --pid "$(pgrep -n droply)" \
        --connections 3000 --duration 60 --header-timeout 10
"""

import argparse
import resource
import selectors
import socket
import time

from overload_probe import HealthPoller, RssSampler, percentile, print_report

HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--pid", type=int, help="the server's pid, for its VmRSS")
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--trickle", type=float, default=1.0,
                        help="seconds between header lines on each connection")
    parser.add_argument("--header-timeout", type=float, default=10.0,
                        help="the server's header read timeout, to judge lifetimes")
    parser.add_argument("--reopen", choices=("tick", "now", "never"), default="tick",
                        help="when to replace connections the server closed")
    parser.add_argument("--health-from", default=None,
                        help="source address of the /health poller (default: as the attack)")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("loopback only")
    duration = min(args.duration, 120.0)
    connections = min(args.connections, 10_000)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, connections + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    rss = RssSampler(args.pid) if args.pid else None
    if rss:
        rss.start()
    health = HealthPoller(args.host, args.port, every=0.05, source=args.health_from)
    health.start()

    selector = selectors.DefaultSelector()
    opened_at = {}
    lifetimes = []
    connect_failures = 0
    opened_total = 0
    peak_open = 0

    def open_one():
        nonlocal connect_failures, opened_total
        try:
            sock = socket.create_connection((args.host, args.port), timeout=2.0)
            sock.sendall(HEAD)
            sock.setblocking(False)
        except OSError:
            connect_failures += 1
            return
        opened_total += 1
        opened_at[sock] = time.monotonic()
        selector.register(sock, selectors.EVENT_READ)

    def closed_by_server(sock):
        lifetimes.append(time.monotonic() - opened_at.pop(sock))
        selector.unregister(sock)
        sock.close()

    def handle_events(timeout):
        for key, _ in selector.select(timeout=timeout):
            sock = key.fileobj
            try:
                data = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed_by_server(sock)
                if args.reopen == "now" and time.monotonic() < deadline:
                    open_one()

    started = time.monotonic()
    deadline = started + duration
    # Open them as fast as possible, noticing closes along the way.
    for batch in range(0, connections, 50):
        for _ in range(min(50, connections - batch)):
            open_one()
        handle_events(0)
        peak_open = max(peak_open, len(opened_at))
    ramp_s = time.monotonic() - started
    next_trickle = time.monotonic() + args.trickle
    while time.monotonic() < deadline:
        handle_events(0.1)
        peak_open = max(peak_open, len(opened_at))
        if time.monotonic() >= next_trickle:
            next_trickle += args.trickle
            if args.reopen == "tick":
                for _ in range(connections - len(opened_at)):
                    open_one()
            for sock in list(opened_at):
                try:
                    sock.send(b"X-Slow: 1\r\n")
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed_by_server(sock)
    still_open = len(opened_at)
    open_ages = [time.monotonic() - at for at in opened_at.values()]
    for sock in list(opened_at):
        selector.unregister(sock)
        sock.close()
    health.stop()
    if rss:
        rss.stop()

    limit = args.header_timeout + 1.0
    report = {
        "attack": {
            "connections": connections,
            "duration_s": round(duration, 1),
            "reopen": args.reopen,
            "ramp_s": round(ramp_s, 2),
            "opened_total": opened_total,
            "connect_failures": connect_failures,
            "peak_open_client_side": peak_open,
            "closed_by_server": len(lifetimes),
            "closed_within_100ms": sum(1 for t in lifetimes if t < 0.1),
            "lifetime_p50_s": round(percentile(lifetimes, 0.5), 2) if lifetimes else None,
            "lifetime_max_s": round(max(lifetimes), 2) if lifetimes else None,
            "outlived_header_timeout_plus_1s": sum(1 for t in lifetimes + open_ages if t > limit),
            "still_open_at_end": still_open,
            "oldest_open_at_end_s": round(max(open_ages, default=0.0), 2),
        },
    }
    print_report(report, health, rss)


if __name__ == "__main__":
    main()
