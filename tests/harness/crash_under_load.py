#!/usr/bin/env python3
"""Crash under load: `droply serve` takes mixed writes from 8 clients and is
killed with SIGKILL at random moments. After each restart:

- every acknowledged write is there: accounts (their tokens still work),
  bookings (the booker reads them), favorites, and profile edits (the bio is
  the last acknowledged one, or one sent after it whose answer the kill ate);
- no expert's calendar holds two overlapping slot-blocking bookings;
- `droply verify` passes: the store's indexes and unique keys agree with the
  rows, every balance agrees with the ledger, and the search index equals a
  rebuild.

The experts offer free sessions (no rate), so the server needs no Stripe:
each booking is confirmed in the transaction that writes it. The money path
under kill -9 (a payout's transfer call cut off before its commit) is tested
in `tests/api/payments.rs`.

    tests/harness/crash_under_load.py --cycles 1000    # the long run (20 stores)
    tests/harness/crash_under_load.py --cycles 50      # what CI runs (one store)

Each check reads back every write its store ever acknowledged, so a store's
checks grow with its cycles: the long run starts a fresh store every
`--fresh-every` cycles (50, what CI runs on its one store).

Loopback only; every loop is bounded in count and time.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

CLIENTS = 8
EXPERTS = 3


class Server:
    def __init__(self, binary, data_dir, port, model_dir):
        self.binary, self.data_dir, self.port, self.model_dir = binary, data_dir, port, model_dir
        self.process = None

    def start(self, timeout=180):
        env = dict(os.environ, DROPLY_MODEL_DIR=self.model_dir, RUST_LOG="warn")
        # The rate limits have tests of their own; here they would only refuse the load.
        for limit in ("AUTH", "WRITE", "SEARCH", "ACCOUNT_WRITE"):
            env[f"DROPLY_{limit}_RATE"] = env[f"DROPLY_{limit}_BURST"] = "1000000"
        log = open(os.path.join(self.data_dir, "serve.log"), "ab")
        self.process = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--addr", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=log, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"droply serve exited with {self.process.returncode}")
            status, _ = call(self.port, "GET", "/ready", timeout=2)
            if status == 200:
                return
            time.sleep(0.1)
        raise SystemExit("droply serve did not become ready")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


def call(port, method, path, body=None, token=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, None
    except (OSError, urllib.error.URLError):
        return None, None  # no answer: the write is not acknowledged


class Ledger:
    """What the server acknowledged, and what was sent after the last ack."""

    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}  # name -> {"token", "bio": acked, "pending": set of sent bios}
        self.bookings = []  # (booking id, booker token)
        self.favorites = []  # (token, expert id)


def register(port, name):
    status, body = call(port, "POST", "/v1/auth/register", {
        "username": name, "email": f"{name}@example.com",
        "password": f"password-{name}", "full_name": f"{name} Crash"})
    return body["token"] if status == 201 else None


def client_loop(port, worker, rng, ledger, experts, stop, cycle):
    mine = []
    serial = 0
    while not stop.is_set():
        op = rng.random()
        if op < 0.25 or not mine:
            serial += 1
            name = f"c{cycle}w{worker}n{serial}"
            token = register(port, name)
            if token:
                with ledger.lock:
                    ledger.users[name] = {"token": token, "bio": None, "pending": set()}
                mine.append(name)
        elif op < 0.55:
            name = rng.choice(mine)
            token = ledger.users[name]["token"]
            expert = rng.choice(experts)
            day = rng.randrange(3, 300)
            hour = rng.randrange(0, 22)
            start = time.strftime("%Y-%m-%dT", time.gmtime(time.time() + day * 86400)) + f"{hour:02d}:00:00Z"
            status, body = call(port, "POST", "/v1/bookings",
                                {"provider_id": expert, "start_time": start, "duration": 60}, token)
            if status == 201:
                with ledger.lock:
                    ledger.bookings.append((body["id"], token))
        elif op < 0.7:
            name = rng.choice(mine)
            token = ledger.users[name]["token"]
            expert = rng.choice(experts)
            status, _ = call(port, "POST", f"/v1/favorites/{expert}", None, token)
            if status == 201:
                with ledger.lock:
                    ledger.favorites.append((token, expert))
        else:
            name = rng.choice(mine)
            user = ledger.users[name]
            bio = f"bio {rng.getrandbits(48):x}"
            with ledger.lock:
                user["pending"].add(bio)
            status, _ = call(port, "PATCH", "/v1/users/me", {"bio": bio}, user["token"])
            if status == 200:
                with ledger.lock:
                    user["bio"] = bio
                    user["pending"] = set()


def check(port, ledger, experts, binary, data_dir, model_dir, server):
    problems = []
    for name, user in ledger.users.items():
        status, body = call(port, "GET", "/v1/users/me", token=user["token"])
        if status != 200:
            problems.append(f"acknowledged account {name} is gone ({status})")
            continue
        allowed = {user["bio"]} | user["pending"] if user["bio"] is not None else {body["bio"]} | user["pending"]
        if body["bio"] not in allowed and not (user["bio"] is None and body["bio"] == ""):
            problems.append(f"{name}: bio {body['bio']!r}, acknowledged {user['bio']!r}")
    for booking_id, token in ledger.bookings:
        status, _ = call(port, "GET", f"/v1/bookings/{booking_id}", token=token)
        if status != 200:
            problems.append(f"acknowledged booking {booking_id} is gone ({status})")
    saved = {}
    for token, expert in ledger.favorites:
        if token not in saved:
            status, body = call(port, "GET", "/v1/favorites?limit=100", token=token)
            saved[token] = {e["id"] for e in body["experts"]} if status == 200 else set()
        if expert not in saved[token]:
            problems.append(f"acknowledged favorite of expert {expert} is gone")
    for expert, token in experts.items():
        spans, cursor = [], None
        for _ in range(1000):
            path = "/v1/bookings?role=provider&limit=100" + (f"&cursor={cursor}" if cursor else "")
            status, body = call(port, "GET", path, token=token)
            if status != 200:
                problems.append(f"cannot list expert {expert}'s bookings ({status})")
                break
            spans += [(b["start_time"], b["end_time"]) for b in body["bookings"]
                      if b["status"] in ("pending_payment", "confirmed")]
            cursor = body.get("next_cursor")
            if not cursor:
                break
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            if s2 < e1:
                problems.append(f"expert {expert} double-booked: {s1}-{e1} and {s2}-{e2}")
    server.kill()
    verify = subprocess.run(
        [binary, "verify", "--data-dir", data_dir, "--wait-secs", "120"],
        env=dict(os.environ, DROPLY_MODEL_DIR=model_dir, RUST_LOG="warn"),
        capture_output=True, text=True)
    if verify.returncode != 0:
        problems.append(f"droply verify: {verify.stdout.strip()} {verify.stderr.strip()[-400:]}")
    return problems


def run_store(args, rng, seed, cycles, first_cycle):
    """Kills one fresh store's server `cycles` times, checking every write it
    acknowledged after each restart. Returns (acknowledged writes, failed)."""
    data_dir = tempfile.mkdtemp(prefix="droply-crash-")
    server = Server(args.bin, data_dir, args.port, args.model_dir)
    server.start()
    experts = {}
    for n in range(EXPERTS):
        token = register(args.port, f"expert{n}")
        status, me = call(args.port, "PATCH", "/v1/users/me",
                          {"profession": "Tax Advisor", "bio": f"expert {n}"}, token)
        assert status == 200, me
        for weekday in range(7):
            status, _ = call(args.port, "POST", "/v1/availability/rules",
                             {"weekday": weekday, "start": "00:00", "end": "23:30"}, token)
            assert status == 201
        experts[me["id"]] = token
    ledger = Ledger()
    acked = 0
    for cycle in range(first_cycle, first_cycle + cycles):
        stop = threading.Event()
        workers = [threading.Thread(
            target=client_loop,
            args=(args.port, w, random.Random(rng.getrandbits(32)), ledger, list(experts), stop, cycle))
            for w in range(CLIENTS)]
        for worker in workers:
            worker.start()
        time.sleep(rng.uniform(0.2, 1.5))
        server.kill()
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
        server.start()
        problems = check(args.port, ledger, experts, args.bin, data_dir, args.model_dir, server)
        acked = len(ledger.users) + len(ledger.bookings) + len(ledger.favorites)
        print(f"cycle {cycle + 1}/{args.cycles}: {len(ledger.users)} accounts, "
              f"{len(ledger.bookings)} bookings, {len(ledger.favorites)} favorites acknowledged; "
              f"{len(problems)} problems", flush=True)
        if problems:
            for problem in problems[:20]:
                print("  " + problem, file=sys.stderr)
            print(f"seed {seed}; data dir kept at {data_dir}", file=sys.stderr)
            return acked, True
        server.start()
    server.kill()
    subprocess.run(["rm", "-rf", data_dir])
    return acked, False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--fresh-every", type=int, default=50,
                        help="cycles on one store before starting a fresh one (each check "
                             "reads every write the store acknowledged, so one store's "
                             "checks grow with its cycles)")
    parser.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "droply"))
    parser.add_argument("--model-dir", default=os.environ.get("DROPLY_MODEL_DIR", ""))
    parser.add_argument("--port", type=int, default=18532)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    started = time.time()
    acked_total = 0
    done = 0
    while done < args.cycles:
        cycles = min(max(args.fresh_every, 1), args.cycles - done)
        acked, failed = run_store(args, rng, seed, cycles, done)
        acked_total += acked
        if failed:
            return 1
        done += cycles
    stores = -(-args.cycles // max(args.fresh_every, 1))
    print(f"{acked_total} acknowledged writes all present after {args.cycles} kill -9 cycles "
          f"on {stores} store(s) in {time.time() - started:.0f} s (seed {seed})")
    print(f"{args.cycles} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
