"""The read-only Domains page: every catalog domain with its fields, topics and who created and last
changed it, when; a domain put through the API shows at once."""

from __future__ import annotations

import html
import re
import uuid

from tests.catalog_support import CatalogServer
from tests.ui.ui_support import login


def _row(page: str, domain: str) -> str:
    found = re.search(rf'<tr data-domain="{domain}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {domain}"
    return html.unescape(found.group(1))


def test_domains_page_lists_the_catalogs_domains_with_who_and_when(catalog: CatalogServer) -> None:
    viewer = login(catalog.url, *catalog.credentials("viewer"))
    page = viewer.get(f"{catalog.url}/domains", timeout=30)
    assert page.status_code == 200 and 'href="/domains"' in page.text
    channel = _row(page.text, "channel")
    assert "deid-seed" in channel and "channel-raw-data" in channel and "channel-dlq" in channel
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", channel)
    assert "<form" not in page.text.split('id="domains"')[1]  # read-only: no edit forms in the table

    name = f"visits_{uuid.uuid4().hex[:6]}"
    steward = catalog.client("steward")
    steward.put_domain(name, {"subject_field": "visitor", "fields": {"visitor": {"type": "string"}}})
    steward.put_domain(name, {"description": "now described", "subject_field": "visitor",
                              "fields": {"visitor": {"type": "string"}}})  # fmt: skip
    row = _row(viewer.get(f"{catalog.url}/domains", timeout=30).text, name)
    user, _ = catalog.credentials("steward")
    assert row.count(user) == 2 and "now described" in row and f"{name}-anonymised-data" in row

    anonymous = viewer.__class__().get(f"{catalog.url}/domains", allow_redirects=False, timeout=30)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=%2Fdomains"
