"""The drop-in room: two browsers, one signed in and one anonymous, see
each other's messages live, and a reload keeps the history."""

import uuid

from conftest import shoot, sign_up


def test_two_browsers_in_one_dropin_see_each_others_messages(server, new_context):
    host_name, host_password, host = server.register("host")
    status, body = server.api("PATCH", "/v1/users/me", {"profession": "Tax Advisor"}, token=host)
    assert status == 200, body
    status, dropin = server.api(
        "POST", "/v1/dropins", {"topic": "Ask me about taxes", "is_anonymous": True}, token=host
    )
    assert status == 201, dropin
    room = f"/d/{dropin['session_code']}"

    a = new_context().new_page()
    sign_up(a, "alice")
    a.goto(room)
    a.get_by_role("button", name="Join anonymously").click()
    a.wait_for_url(f"**{room}")
    a.get_by_text("Connected as").wait_for()
    # In an anonymous drop-in even a signed-in person appears under a guest name.
    a_name = a.locator("#room-status").inner_text().removeprefix("Connected as ").rstrip(".")

    b = new_context().new_page()
    b.goto(room)
    guest = f"Guest {uuid.uuid4().hex[:4]}"
    b.get_by_label("Display name").fill(guest)
    b.get_by_role("button", name="Join", exact=True).click()
    b.get_by_text("Connected as " + guest).wait_for()

    a.get_by_role("textbox", name="Message").fill("Hello from Alice")
    a.get_by_role("button", name="Send").click()
    b.locator("#messages .message .body", has_text="Hello from Alice").wait_for()

    b.get_by_label("Kind").select_option("question")
    b.get_by_role("textbox", name="Message").fill("Can I deduct my desk?")
    b.get_by_role("button", name="Send").click()
    a.locator("#messages .question .body", has_text="Can I deduct my desk?").wait_for()
    # Each sees the other present, the guest by display name only.
    a.locator("#presence li", has_text=guest).wait_for()
    b.locator("#presence li", has_text=a_name).wait_for()
    assert "Alice Person" not in b.locator("#room").inner_text()
    shoot(b, "dropin")

    # The host, signed in in a third browser, answers the question and
    # removes a message; both guests see it.
    h = new_context().new_page()
    h.goto("/signin?next=" + room)
    h.get_by_label("Email").fill(f"{host_name}@example.com")
    h.get_by_label("Password").fill(host_password)
    h.get_by_role("button", name="Sign in").click()
    h.wait_for_url(f"**{room}")
    h.get_by_text("Connected as").wait_for()
    question = h.locator("#messages .question", has_text="Can I deduct my desk?")
    question.get_by_role("button", name="Answer").click()
    h.get_by_role("textbox", name="Message").fill("Yes, if you work from home.")
    h.get_by_role("button", name="Send").click()
    answer = b.locator("#messages .answer", has_text="Yes, if you work from home.")
    answer.wait_for()
    assert "Can I deduct my desk?" in answer.locator(".quote").inner_text()
    assert b.locator("#messages .message .host-tools").count() == 0
    hello = h.locator("#messages .message", has_text="Hello from Alice")
    hello.get_by_role("button", name="Remove").click()
    a.locator("#messages .message.removed", has_text="Removed by the host").wait_for()

    # A reload keeps the history, each message once.
    b.reload()
    b.get_by_text("Connected as " + guest).wait_for()
    b.locator("#messages .message.removed").wait_for()
    assert b.locator("#messages .message .body", has_text="Hello from Alice").count() == 0
    assert b.locator("#messages .answer .body", has_text="work from home").count() == 1
    assert b.locator("#messages .message .body", has_text="Can I deduct my desk?").count() == 1
    # No token or user id reaches the page.
    html = b.content()
    assert "droply_dropin=" not in html and "user_id" not in html
