"""Experts made through the API for the browser tests (the demo accounts
cannot sign in): a free expert with open hours every day, and branding."""


def make_expert(server, zone="Europe/Berlin", hours=("09:00", "17:00"), **profile):
    """A free expert working `hours` every day in `zone`; `profile` adds
    fields to the PATCH of their profile. Returns (id, username, token)."""
    name, _, token = server.register("expert")
    body = {
        "profession": "Tax Advisor",
        "industry": "Finance",
        "location": "Berlin, Germany",
        "bio": "Ten years of VAT returns for small firms.",
        "skills_1": "VAT",
        "specialty_tags": ["startups"],
        "hourly_rate": None,
        "timezone": zone,
        **profile,
    }
    status, me = server.api("PATCH", "/v1/users/me", body, token)
    assert status == 200, me
    for weekday in range(7):
        status, rule = server.api(
            "POST", "/v1/availability/rules",
            {"weekday": weekday, "start": hours[0], "end": hours[1]}, token,
        )
        assert status == 201, rule
    return me["id"], name, token
