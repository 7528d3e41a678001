"""The WebRTC fallback's call page: a booking's client and its expert, each
in their own browser with a fake camera, open the call from the booking
page and see each other; a stranger cannot open it. The server runs
without Daily, so every meeting takes the fallback, and meetings open two
weeks ahead (DROPLY_MEETING_OPENS_BEFORE in conftest), so the first free
slot can be joined now."""

import re

from conftest import shoot, sign_up

CONNECTED = "#call[data-state='connected']"
# The other side's video plays: frames arrived over the peer connection.
REMOTE_PLAYS = """() => {
  const video = document.getElementById('remote-video');
  return video.videoWidth > 0 && video.readyState >= 2 && !video.paused;
}"""


def test_the_two_parties_meet_on_the_call_page(server, new_context):
    name, password, token = server.register("caller")
    status, me = server.api(
        "PATCH", "/v1/users/me",
        {"profession": "Tax Advisor", "industry": "Finance", "hourly_rate": None,
         "timezone": "Europe/Berlin"},
        token,
    )
    assert status == 200, me
    for weekday in range(7):
        status, rule = server.api(
            "POST", "/v1/availability/rules",
            {"weekday": weekday, "start": "00:00", "end": "23:00"}, token,
        )
        assert status == 201, rule

    client = new_context().new_page()
    sign_up(client, "callee")
    client.goto(f"/@{name}")
    client.locator("button.slot").first.click()
    client.wait_for_url(re.compile(r"/bookings/\d+\?booked=1$"))
    booking = client.url.split("?")[0].replace(server.base, "")

    # The booking page links to the call; the call page opens the relay.
    client.get_by_role("link", name="Join the call").click()
    client.wait_for_url(f"**{booking}/call")
    client.wait_for_selector("#call[data-state='waiting']")

    expert = new_context().new_page()
    expert.goto(f"/signin?next={booking}/call")
    expert.get_by_label("Email").fill(f"{name}@example.com")
    expert.get_by_label("Password").fill(password)
    expert.get_by_role("button", name="Sign in").click()
    expert.wait_for_url(f"**{booking}/call")

    for side in (client, expert):
        side.wait_for_selector(CONNECTED, timeout=30000)
        side.wait_for_function(REMOTE_PLAYS, timeout=30000)
    assert client.locator("#call-status").inner_text() == "Connected."
    shoot(client, "call")

    # The expert leaves: the client is told, and waits.
    expert.get_by_role("button", name="Leave the call").click()
    client.wait_for_selector("#call[data-state='waiting']")
    assert "left" in client.locator("#call-status").inner_text()

    # A stranger gets the 404 page, and so does their socket.
    stranger = new_context().new_page()
    sign_up(stranger, "stranger")
    assert stranger.goto(f"{booking}/call").status == 404
