"""Browser tests of the web pages: the real `droply serve --demo` on a
loopback port, driven by Playwright in Debian's headless Chromium.

The server is started once per run over a fresh data directory (a small
demo marketplace, the sentence model from $DROPLY_MODEL_DIR). Each test gets
a fresh browser context (its own cookies). `shoot(page, name)` writes a
desktop (1280 px) and a mobile (375 px) screenshot of the page to
$DROPLY_SHOTS (default: target/browser-shots), which the run keeps and git
ignores.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = Path(os.environ.get("DROPLY_BIN", TARGET / "debug" / "droply"))
CHROMIUM = os.environ.get("DROPLY_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("DROPLY_SHOTS", TARGET / "browser-shots"))
DEMO_EXPERTS = os.environ.get("DROPLY_BROWSER_DEMO_EXPERTS", "400")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `droply serve --demo` and how to call its API."""

    def __init__(self, base, data_dir):
        self.base = base
        self.data_dir = data_dir

    def api(self, method, path, body=None, token=None, headers=None):
        """Calls the JSON API; returns (status, parsed body)."""
        request = urllib.request.Request(self.base + path, method=method)
        request.add_header("accept", "application/json")
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, data, timeout=30) as answer:
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            text = err.read()
            return err.code, json.loads(text) if text else None

    def register(self, prefix="user"):
        """A new account through the API; returns (username, password, token)."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        status, body = self.api(
            "POST",
            "/v1/auth/register",
            {"username": name, "email": f"{name}@example.com", "password": password,
             "full_name": f"{prefix.title()} Tester"},
        )
        assert status == 201, body
        return name, password, body["token"]


@pytest.fixture(scope="session")
def server():
    assert BIN.exists(), f"build droply first: {BIN} is missing"
    data_dir = tempfile.mkdtemp(prefix="droply-browser-")
    port = free_port()
    env = dict(os.environ)
    # The rate limits have tests of their own; a browser run signs up often.
    for name in ("AUTH", "WRITE", "SEARCH", "ACCOUNT_WRITE", "JOIN"):
        env[f"DROPLY_{name}_RATE"] = "1000000"
        env[f"DROPLY_{name}_BURST"] = "1000000"
    # Meetings open two weeks ahead, so the call page can be tried on any
    # booked slot (the API's tests check the real window).
    env["DROPLY_MEETING_OPENS_BEFORE"] = "336h"
    log = open(Path(data_dir) / "serve.log", "w")
    process = subprocess.Popen(
        [str(BIN), "serve", "--demo", "--demo-experts", DEMO_EXPERTS,
         "--data-dir", data_dir, "--addr", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while True:
        if process.poll() is not None:
            raise RuntimeError(open(Path(data_dir) / "serve.log").read()[-4000:])
        try:
            with urllib.request.urlopen(base + "/ready", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            process.kill()
            raise RuntimeError("droply serve did not become ready in 300 s")
        time.sleep(0.3)
    yield Server(base, data_dir)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-dev-shm-usage",
                  # A fake camera and microphone, granted without asking, and
                  # host ICE candidates as plain addresses (not mDNS names),
                  # so two contexts can call each other on loopback.
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  "--disable-features=WebRtcHideLocalIpsWithMdns"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, server):
    """Opens browser contexts (separate cookie jars) that close after the test."""
    contexts = []

    def open_context(timezone_id="Europe/Berlin", **options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=server.base, timezone_id=timezone_id, **options)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


def shoot(page, name):
    """Desktop and mobile screenshots of the page as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, width in (("desktop", 1280), ("mobile", 375)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


def sign_up(page, prefix="browser", referral=None):
    """Signs up through the page; returns (username, password)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    password = f"pw-{uuid.uuid4().hex}"
    page.goto("/signup" + (f"?ref={referral}" if referral else ""))
    page.get_by_label("Your name").fill(f"{prefix.title()} Person")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Email").fill(f"{name}@example.com")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/account")
    return name, password
