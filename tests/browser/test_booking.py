"""Booking a free session from a profile in another time zone, finding it
in one's bookings, and a stranger who cannot open it."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import shoot, sign_up
from test_accessibility import audit
from experts import make_expert

LA = "America/Los_Angeles"


def test_booking_a_free_slot_in_another_time_zone(server, new_context):
    expert_id, name, _ = make_expert(server, zone="Europe/Berlin", hours=("09:00", "17:00"))
    page = new_context(timezone_id=LA).new_page()
    sign_up(page, "client")

    page.goto(f"/@{name}")
    # The browser's zone is the one times are shown in.
    page.wait_for_function(
        "() => document.getElementById('zone').value === 'America/Los_Angeles'"
    )
    buttons = page.locator("button.slot")
    assert buttons.count() > 0
    starts = buttons.evaluate_all("els => els.map(e => e.dataset.start)")
    labels = buttons.evaluate_all("els => els.map(e => e.innerText.trim())")

    # The API offers the same instants for the same LA days.
    today = datetime.now(ZoneInfo(LA)).date()
    status, slots = server.api(
        "GET",
        f"/v1/experts/{expert_id}/slots?from={today}&to={today + timedelta(days=13)}"
        f"&tz={LA}&duration=60",
    )
    assert status == 200, slots
    offered = {s["start"] for s in slots["slots"]}
    assert set(starts) <= offered, (starts[:3], sorted(offered)[:3])
    # Each is labelled with its LA clock time: Berlin's 09:00 to 17:00.
    for start, label in zip(starts, labels):
        instant = datetime.fromisoformat(start.replace("Z", "+00:00"))
        assert label == instant.astimezone(ZoneInfo(LA)).strftime("%H:%M"), (start, label)
        berlin = instant.astimezone(ZoneInfo("Europe/Berlin"))
        assert 9 <= berlin.hour < 17
    shoot(page, "booking-widget")

    first = buttons.first
    chosen = first.get_attribute("data-start")
    first.click()
    page.wait_for_url(re.compile(r"/bookings/\d+\?booked=1$"))
    assert "booked" in page.get_by_role("status").first.inner_text()
    when = page.locator("dd[data-start]")
    assert when.get_attribute("data-start") == chosen
    local = datetime.fromisoformat(chosen.replace("Z", "+00:00")).astimezone(ZoneInfo(LA))
    assert local.strftime("%H:%M") in when.inner_text()
    assert "America/Los Angeles" in when.inner_text()
    assert page.get_by_text("Confirmed").is_visible()
    booking_url = page.url.split("?")[0]
    shoot(page, "booking")

    # The calendar file is a download.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    assert download.value.suggested_filename.endswith(".ics")

    # It is among my bookings.
    page.goto("/account/bookings")
    link = page.locator(f"a[href='{booking_url.replace(server.base, '')}']")
    assert link.count() == 1
    shoot(page, "my-bookings")
    link.click()
    assert page.url.split("?")[0] == booking_url

    # Both pages pass the accessibility audit on a phone.
    page.set_viewport_size({"width": 375, "height": 800})
    for path in (booking_url.replace(server.base, ""), "/account/bookings"):
        audit(page, path)

    # A stranger, signed in elsewhere, gets the 404 page.
    stranger = new_context(timezone_id="Europe/Berlin").new_page()
    sign_up(stranger, "stranger")
    response = stranger.goto(booking_url)
    assert response.status == 404


def test_a_taken_slot_is_told_not_a_server_error(server, new_context):
    _, name, _ = make_expert(server)
    first = new_context().new_page()
    second = new_context().new_page()
    sign_up(first, "early")
    sign_up(second, "late")
    first.goto(f"/@{name}")
    second.goto(f"/@{name}")
    start = first.locator("button.slot").first.get_attribute("data-start")
    first.locator(f"button.slot[data-start='{start}']").click()
    first.wait_for_url(re.compile(r"/bookings/\d+"))
    # The second browser still shows the slot; booking it answers 409 with why.
    with second.expect_response(lambda r: r.request.method == "POST") as answer:
        second.locator(f"button.slot[data-start='{start}']").click()
    assert answer.value.status == 409
    assert "no longer open" in second.get_by_role("alert").inner_text()
