"""The content page: free content is taken and downloaded in the browser."""

import urllib.request
import uuid

from conftest import shoot, sign_up


def upload(server, path, token, data):
    request = urllib.request.Request(server.base + path, data=data, method="PUT")
    request.add_header("authorization", f"Bearer {token}")
    request.add_header("content-type", "application/octet-stream")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def test_free_content_is_taken_and_downloaded(server, page):
    creator, _, token = server.register("creator")
    title = f"Free guide {uuid.uuid4().hex[:6]}"
    status, content = server.api(
        "POST", "/v1/content",
        {"title": title, "description": "Everything about VAT in one page.",
         "content_type": "document", "price": {"amount_minor": 0, "currency": "USD"}},
        token=token,
    )
    assert status == 201, content
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    upload(server, f"/v1/content/{content['id']}/file", token, pdf)
    status, body = server.api("POST", f"/v1/content/{content['id']}/publish", token=token)
    assert status == 200, body

    sign_up(page, "reader")
    page.goto(f"/c/{content['id']}")
    assert page.get_by_role("heading", name=title).is_visible()
    assert page.locator(f'a[href="/@{creator}"]').count() == 1
    assert page.get_by_text("Free", exact=True).is_visible()
    page.get_by_role("button", name="Get it free").click()
    assert page.get_by_role("status").filter(has_text="It is yours").is_visible()
    shoot(page, "content")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    path = info.value.path()
    assert open(path, "rb").read() == pdf
