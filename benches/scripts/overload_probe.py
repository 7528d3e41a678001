"""What the overload scripts (slowloris.py, login_flood.py) watch while they run.

HealthPoller: GET /health on a fresh connection every `every` seconds, from a process of
its own (so that the attack's threads, which share one interpreter lock, do not delay
it), recording each answer's latency (connect included) or its failure. RssSampler: the
server's resident memory (VmRSS of /proc/<pid>/status) every `every` seconds, from a
thread. Both stop when told. Standard library only; loopback only.
"""

import json
import multiprocessing
import socket
import statistics
import threading
import time


def percentile(values, fraction):
    """The value below which `fraction` of `values` lie (nearest rank); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def summary_ms(values):
    """count, p50, p99 and max of latencies in seconds, as milliseconds."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def exchange(host, port, request, timeout=5.0, source=None):
    """Sends raw `request` bytes on a new connection and reads the whole
    answer (the request asks to close); raises OSError."""
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        sock.sendall(request)
        answer = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return answer
            answer += chunk


def http_get(host, port, path, timeout=5.0, source=None):
    """One GET on a new connection; (status, seconds) or raises OSError."""
    started = time.perf_counter()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    answer = exchange(host, port, request, timeout, source)
    elapsed = time.perf_counter() - started
    if not answer.startswith(b"HTTP/1.1 "):
        raise OSError(f"no HTTP answer ({len(answer)} bytes)")
    return int(answer[9:12]), elapsed


class HealthPoller:
    """Polls GET /health from a child process until stopped; keeps the latencies of
    200s and counts the rest."""

    def __init__(self, host, port, every=0.05, source=None):
        self.host, self.port, self.every, self.source = host, port, every, source
        self.latencies = []
        self.failures = []
        self._halt = multiprocessing.Event()
        self._results = multiprocessing.Queue()
        self._process = multiprocessing.Process(target=self._poll, daemon=True)

    def start(self):
        self._process.start()

    def _poll(self):
        latencies, failures = [], []
        while not self._halt.is_set():
            try:
                status, elapsed = http_get(self.host, self.port, "/health", source=self.source)
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failures.append(f"status {status}")
            except OSError as err:
                failures.append(type(err).__name__)
            self._halt.wait(self.every)
        self._results.put((latencies, failures))

    def stop(self):
        self._halt.set()
        self.latencies, self.failures = self._results.get(timeout=30)
        self._process.join(timeout=30)

    def report(self):
        out = summary_ms(self.latencies)
        out["failures"] = len(self.failures)
        if self.failures:
            kinds = {}
            for failure in self.failures:
                kinds[failure] = kinds.get(failure, 0) + 1
            out["failure_kinds"] = kinds
        return out


def print_report(report, health, rss):
    """Prints `report` as JSON with the health poller's and, when sampled,
    the server's memory findings added."""
    report["health"] = health.report()
    if rss:
        report["server_rss"] = rss.report()
    print(json.dumps(report, indent=2))


def rss_kib(pid):
    """VmRSS of process `pid` in KiB, or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples the server's VmRSS until stopped; keeps the first, last and peak."""

    def __init__(self, pid, every=0.2):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            value = rss_kib(self.pid)
            if value is not None:
                self.samples.append(value)
            self._halt.wait(self.every)

    def stop(self):
        self._halt.set()
        self.join()

    def report(self):
        if not self.samples:
            return {"samples": 0}
        return {
            "samples": len(self.samples),
            "start_mib": round(self.samples[0] / 1024, 1),
            "peak_mib": round(max(self.samples) / 1024, 1),
            "end_mib": round(self.samples[-1] / 1024, 1),
        }
