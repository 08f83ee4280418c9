"""The steward UI in a real browser: Debian's chromium, headless, driven by Playwright (its Python package
only; the browser is the system's, found by path, never downloaded) against the real catalog server.

A steward opens the channel schema after inference, sees `tv_show` suggested NON_PII, rejects the wrong
PERSON tag on `channel_name`, changes `user_id`'s treatment, publishes and sees the new version; a viewer
has no publish button and a direct POST is refused. Every page is saved to bench-results/ui/*.png.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipelines.catalog_binding import pipeline_entities
from pipelines.policy_source import PipelineLineage
from tests.catalog_support import CatalogServer
from tests.ui.conftest import CLUSTER, SCREENSHOTS


def _chromium() -> str:
    for candidate in ("chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("Debian's chromium is not installed: `apt-get install chromium` (./scripts/test does in CI)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def channel_pipeline(ui_catalog: CatalogServer, channel_after_inference: dict[str, str]) -> None:
    """A running channel worker, recorded as the pipeline's catalog lineage sink records it."""
    lineage = PipelineLineage(
        domain="channel",
        cluster=CLUSTER,
        inputs=["channel-raw-data"],
        outputs=["channel-anonymised-data"],
        dlq="channel-dlq",
        policy_version=1,
        delivery_mode="exactly-once",
    )
    with ui_catalog.client("steward") as client:
        client.upsert_entities(pipeline_entities(lineage, "running"))


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _login(browser: Browser, server: CatalogServer, role: str) -> Page:
    user, password = server.credentials(role)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{server.url}/topics/channel")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/topics/channel")
    return page


def _row(page: Page, path: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-path="{path}"]')


def test_steward_reviews_tags_changes_a_treatment_and_publishes(
    browser: Browser, ui_catalog: CatalogServer, channel_after_inference: dict[str, str], channel_pipeline: None
) -> None:
    page = _login(browser, ui_catalog, "steward")
    steward = ui_catalog.credentials("steward")[0]

    tv_show = _row(page, "tv_show")
    expect(tv_show.locator("td.entity")).to_contain_text("NON_PII")
    expect(tv_show.locator("td.status")).to_contain_text("suggested")
    expect(tv_show.locator("td.evidence")).to_contain_text("12% of 16 sampled values")
    expect(_row(page, "channel_name").locator("td.entity")).to_contain_text("PERSON")
    _shot(page, "schema-review")

    # The wrong PERSON tag on channel_name: reject it (→ NON_PII, kept as is).
    channel = _row(page, "channel_name")
    channel.locator("summary").click()
    channel.locator("input[name=note]").fill("channel names, not people")
    channel.locator("button[value=reject]").click()
    expect(page.locator(".flash")).to_contain_text("channel_name: rejected PERSON")
    channel = _row(page, "channel_name")
    expect(channel.locator("td.entity")).to_contain_text("NON_PII")
    expect(channel.locator("td.entity")).to_contain_text("rejected: PERSON")
    expect(channel.locator("td.status")).to_contain_text("confirmed")
    expect(channel.locator("td.treatment")).to_contain_text("keep")
    expect(channel.locator("td.evidence")).to_contain_text("PERSON in 62% of 16 sampled values")  # what was overruled

    # user_id: mask with a 16-character pseudonym instead of the suggested encryption.
    user_id = _row(page, "user_id")
    expect(user_id.locator("td.treatment")).to_contain_text("encrypt")
    user_id.locator("summary").click()
    user_id.locator("select.treatment-choice").select_option("mask")
    expect(user_id.locator('fieldset[data-treatment="encrypt"]')).to_be_hidden()
    user_id.locator('input[name="mask.length"]').fill("16")
    # Only the row: a full-page screenshot resizes the page and the next click can miss its button.
    user_id.screenshot(path=str(SCREENSHOTS / "schema-decide.png"))
    user_id.locator("form.treatment-form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("user_id: treatment set")
    expect(_row(page, "user_id").locator("td.treatment")).to_contain_text("mask (encoding=hex, key=default, length=16)")

    page.click("#filter-review")
    expect(_row(page, "channel_name")).to_have_count(0)
    _shot(page, "schema-needs-review")

    page.goto(f"{ui_catalog.url}/topics/channel/fields/channel_name/history")
    history = page.locator("#history")
    expect(history).to_contain_text("PERSON: rejected, steward")
    expect(history).to_contain_text(steward)
    _shot(page, "field-history")

    page.goto(f"{ui_catalog.url}/policies/channel")
    published = page.locator("#published-version").inner_text()
    before = int(published.removeprefix("v")) if published.startswith("v") else 0
    expect(page.locator("#pending")).to_contain_text("rules.user_id")
    _shot(page, "policy-draft")
    page.click("#publish button[type=submit]")
    expect(page.locator(".flash")).to_contain_text(f"Published version {before + 1}")
    expect(page.locator("#published-version")).to_have_text(f"v{before + 1}")
    newest = page.locator(f'section.version[data-version="{before + 1}"]')
    expect(newest).to_contain_text(f"published by {steward}")
    expect(newest).to_contain_text("mask (encoding=hex, key=default, length=16)")
    expect(page.locator("#pending")).to_contain_text("No changes")
    _shot(page, "policy-published")

    page.goto(f"{ui_catalog.url}/")
    row = page.locator('tr[data-domain="channel"]')
    expect(row.locator("td.published")).to_contain_text(f"v{before + 1}")
    expect(row.locator("td.pii-count")).to_have_text("2")  # date and user_id; channel_name rejected
    bar = page.locator('svg#coverage g[data-domain="channel"]')
    pii_width = sum(int(bar.locator(f"rect.{c}").get_attribute("width") or 0) for c in ("bar-pii", "bar-suggested"))
    assert pii_width == round(360 * 2 / 5)  # 2 of the 5 fields
    _shot(page, "overview")

    page.goto(f"{ui_catalog.url}/lineage")
    drawing = page.locator("svg#lineage")
    expect(drawing).to_contain_text("channel-raw-data")
    expect(drawing).to_contain_text("policy v1 · running")
    expect(drawing).to_contain_text("channel-anonymised-data")
    _shot(page, "lineage")
    page.close()


def test_viewer_sees_no_publish_button_and_a_direct_post_is_refused(
    browser: Browser, ui_catalog: CatalogServer, channel_after_inference: dict[str, str]
) -> None:
    page = _login(browser, ui_catalog, "viewer")
    expect(page.locator(".readonly")).to_be_visible()
    expect(page.locator("td.actions summary")).to_have_count(0)
    page.goto(f"{ui_catalog.url}/policies/channel")
    expect(page.locator("#publish")).to_have_count(0)
    _shot(page, "policy-viewer")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    versions = page.locator("section.version").count()
    refused = page.request.post(f"{ui_catalog.url}/policies/channel/publish", form={"csrf_token": token or ""})
    assert refused.status == 403 and "only stewards" in refused.text()
    forged = page.request.post(f"{ui_catalog.url}/policies/channel/publish", form={})
    assert forged.status == 403 and "CSRF token" in forged.text()
    page.reload()
    assert page.locator("section.version").count() == versions
    page.close()


def test_screenshots_were_written() -> None:
    names = {p.stem for p in Path(SCREENSHOTS).glob("*.png")}
    assert {"schema-review", "field-history", "policy-published", "overview", "lineage", "policy-viewer"} <= names
