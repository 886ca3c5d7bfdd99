"""A real browser: Debian Chromium driven by Playwright against the app launched in-process."""
import os
import shutil

import pytest

from tests.test_app import server  # noqa: F401  (the in-process app fixture)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.integration,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed")]


@pytest.fixture(scope="module")
def page(server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(locale="en-US")
        # Not "networkidle": Gradio keeps a heartbeat stream open while the page has session state.
        page.goto(server, wait_until="load", timeout=60_000)
        page.get_by_role("tab", name="System").first.wait_for(timeout=60_000)
        yield page
        browser.close()


def test_page_shows_the_product_tabs(page):
    for name in ("Sentiment", "System"):
        assert page.get_by_role("tab", name=name).first.is_visible()
    assert page.get_by_text("AI Product Matrix").first.is_visible()


def test_a_sentiment_result_appears_and_system_shows_the_model(page, tmp_path):
    page.get_by_role("tab", name="Sentiment").first.click()
    page.locator("#tab-sentiment").get_by_label("Text").first.fill("I absolutely love this phone, the battery is amazing!")
    page.get_by_role("button", name="Analyse").click()
    result = page.locator("[data-testid='label-output-value']")
    result.wait_for(timeout=120_000)
    assert "positive" in result.inner_text()
    page.get_by_role("tab", name="System").first.click()
    page.get_by_role("button", name="Refresh").click()
    table = page.get_by_text("text-encoder").first
    table.wait_for(timeout=30_000)
    page.wait_for_function("document.body.innerText.includes('loaded') && document.body.innerText.includes('embedded: all-MiniLM-L6-v2')",
                           timeout=30_000)
    page.screenshot(path=str(tmp_path / "system.png"), full_page=True)


def test_the_image_tab_draws_with_the_offline_model(page, tmp_path):
    page.get_by_role("tab", name="Image generation").first.click()
    page.get_by_text("emoji-diffusion").first.wait_for(timeout=10_000)
    page.locator("#tab-image").get_by_label("Prompt").first.fill("a yellow star")
    page.get_by_role("button", name="Generate").first.click()
    # The parameters box is filled when the first image is done; the gallery shows it as a PNG.
    page.wait_for_function("[...document.querySelectorAll('textarea')].some("
                           "t => t.value.includes('Seed:') && t.value.includes('emoji-diffusion'))", timeout=120_000)
    page.wait_for_function("[...document.querySelectorAll('img')].some(i => i.src.includes('.png') && i.naturalWidth > 0)",
                           timeout=30_000)
    page.screenshot(path=str(tmp_path / "image.png"), full_page=True)


def test_the_recommendations_tab_explains_a_users_top_n_and_shows_the_model_card(page, tmp_path):
    page.get_by_role("tab", name="Recommendations").first.click()
    page.get_by_role("button", name="Recommend").first.click()
    # the first user's top 10, each with its reason, and their rating history beside it
    page.wait_for_function("document.body.innerText.includes('because you rated')", timeout=120_000)
    page.wait_for_function("document.body.innerText.includes('Content also shapes the item-item weights')"
                           " && document.body.innerText.includes('what people rated next after them')",
                           timeout=10_000)
    page.screenshot(path=str(tmp_path / "recommend.png"), full_page=True)
    page.get_by_role("tab", name="Model card").first.click()
    page.get_by_role("button", name="Show model card").click()
    page.wait_for_function("document.body.innerText.includes('Chosen on validation')"
                           " && document.body.innerText.includes('content α')"
                           " && document.body.innerText.includes('what other users rated next')", timeout=60_000)


def test_admin_buttons_stay_locked_until_the_password_unlocks_them(page, fresh_settings, monkeypatch, tmp_path):
    from shared import admin

    monkeypatch.setattr(admin, "_WRONG_DELAY_S", 0)
    fresh_settings.setenv("AIPM_ADMIN_PASSWORD", "browser-secret")
    page.get_by_role("tab", name="System").first.click()
    load = page.get_by_role("button", name="Load", exact=True)
    assert load.is_disabled()
    page.get_by_text("Admin", exact=True).first.click()
    box = page.get_by_label("Admin password")
    box.fill("a guess")
    page.get_by_role("button", name="Unlock admin actions").click()
    page.get_by_text("the admin password is missing or wrong").first.wait_for(timeout=30_000)
    assert load.is_disabled()
    box.fill("browser-secret")
    page.get_by_role("button", name="Unlock admin actions").click()
    page.get_by_text("Admin actions are unlocked for this page.").first.wait_for(timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Load' && !b.disabled)",
                           timeout=10_000)
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)


def test_the_overview_runs_the_example_call_end_to_end(page, tmp_path):
    page.get_by_role("tab", name="Overview").first.click()
    page.get_by_text("An AI product matrix").first.wait_for(timeout=10_000)
    page.get_by_role("button", name="Run the example call through the workflow").click()
    # Each step's result appears as it finishes; the status line marks the last one done.
    page.wait_for_function("document.body.innerText.includes('✅ 1 transcript')", timeout=300_000)
    page.wait_for_function("document.body.innerText.includes('✅ 5 header image')", timeout=600_000)
    page.screenshot(path=str(tmp_path / "overview-call.png"), full_page=True)
    if os.environ.get("AIPM_SCREENSHOTS"):
        shutil.copy(tmp_path / "overview-call.png", os.environ["AIPM_SCREENSHOTS"])
    # The email streamed into its box, and the header image is drawn.
    page.wait_for_function("[...document.querySelectorAll('textarea')].some(t => t.value.length > 100)",
                           timeout=30_000)
    page.wait_for_function("[...document.querySelectorAll('img')].some(i => i.src.includes('header') "
                           "&& i.naturalWidth > 0)", timeout=30_000)
