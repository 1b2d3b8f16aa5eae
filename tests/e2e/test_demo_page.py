"""The demo page, clicked through in Debian Chromium against ``python -m app serve``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Served, serving


@pytest.fixture
def demo_page(page: Page, demo: Served) -> Iterator[Page]:
    """The shipped demo, opened in the main window; the test fails on any page error."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(demo.urls["main"])
    expect(page.get_by_test_id("window-label")).to_have_text("main")
    yield page
    assert problems == []


def test_greet(demo_page: Page) -> None:
    demo_page.get_by_test_id("greet-name").fill("Ada")
    demo_page.get_by_test_id("greet-submit").click()
    expect(demo_page.get_by_test_id("greet-result")).to_have_text("Hello, Ada!")

    demo_page.get_by_test_id("greet-name").fill("Grace")
    demo_page.get_by_test_id("greet-name").press("Enter")
    expect(demo_page.get_by_test_id("greet-result")).to_have_text("Hello, Grace!")


def test_clock_ticks_live(demo_page: Page) -> None:
    clock = demo_page.get_by_test_id("clock")
    expect(clock).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    first = clock.inner_text()
    expect(clock).not_to_have_text(first, timeout=5_000)
    expect(demo_page.get_by_test_id("clock-ticks")).to_have_text(
        re.compile(r"^([2-9]|\d\d+) ticks$")
    )
    expect(demo_page.get_by_test_id("live")).to_have_attribute("data-state", "live")
    clock_rows = demo_page.locator("#event-log li[data-event=clock]")
    expect(clock_rows.first).to_contain_text('"now"')


def test_ping_gets_a_pong_for_this_window(demo_page: Page) -> None:
    demo_page.get_by_test_id("ping").click()
    expect(demo_page.get_by_test_id("pong")).to_have_text(re.compile(r"pong #1 for window main"))
    demo_page.get_by_test_id("ping").click()
    expect(demo_page.get_by_test_id("pong")).to_have_attribute("data-n", "2")
    expect(demo_page.get_by_test_id("ping-count")).to_have_text("2 sent")

    log = demo_page.get_by_test_id("event-log")
    expect(log.locator("li[data-event=ping][data-dir=out]")).to_have_count(2)
    expect(log.locator("li[data-event=pong][data-dir=in]")).to_have_count(2)
    expect(log.locator("li[data-event=pong]").first).to_contain_text('"n":2')


# The code each gallery button shows with the shipped demo, which runs in the isolation pattern:
# its hook refuses reset_demo, which the capability allows.
GALLERY = {
    "not_found": ("not_found", "launch_rockets"),
    "forbidden": ("forbidden", "app.conf.json"),
    "blocked": ("blocked", "reset_demo"),
    "invalid_args": ("invalid_args", "'divide'"),
    "command_failed": ("command_failed", "divide by zero"),
    "timeout": ("timeout", "400 ms"),
    "internal": ("internal", "log"),
}


def test_error_gallery_shows_each_code(demo_page: Page) -> None:
    panel = demo_page.get_by_test_id("error-result")
    for button, (code, words) in GALLERY.items():
        demo_page.get_by_test_id(f"error-{button}").click()
        expect(panel.get_by_test_id("error-code")).to_have_text(code)
        expect(panel.get_by_test_id("error-message")).to_contain_text(re.compile(r"\w+ \w+"))
        expect(panel).to_contain_text(words)
        assert "Traceback" not in panel.inner_text()

        if button == "invalid_args":
            fields = panel.get_by_test_id("error-data").locator("li")
            expect(fields).to_have_count(2)
            expect(fields.nth(0)).to_contain_text("a ")
            expect(fields.nth(1)).to_contain_text("b Field required")
        if button == "command_failed":
            data = json.loads(panel.get_by_test_id("error-data").locator("pre").inner_text())
            assert data == {"a": 1, "b": 0}
        expect(panel.get_by_test_id("error-note")).to_have_count(0)

    demo_page.get_by_test_id("error-protocol").click()
    expect(panel.get_by_test_id("error-code")).to_have_text("protocol")
    expect(panel.get_by_test_id("error-about")).to_contain_text("malformed")
    expect(panel.get_by_test_id("error-call")).to_have_count(0)


def test_items_delete(demo_page: Page) -> None:
    items = demo_page.get_by_test_id("item")
    expect(items).to_have_text([re.compile(n) for n in ("Apples", "Pears", "Plums", "Figs")])

    demo_page.get_by_test_id("delete-item-2").click()
    expect(demo_page.get_by_test_id("items-status")).to_have_text("Deleted Pears.")
    expect(items).to_have_count(3)
    expect(demo_page.locator("li[data-id='2']")).to_have_count(0)

    # Python's list is what changed, not just the page.
    demo_page.get_by_test_id("items-reload").click()
    expect(items).to_have_text([re.compile(n) for n in ("Apples", "Plums", "Figs")])

    for item in (1, 3, 4):
        demo_page.get_by_test_id(f"delete-item-{item}").click()
    expect(items).to_have_count(0)
    expect(demo_page.get_by_test_id("items")).to_contain_text("No items left")


def test_settings_save_themes_the_page_and_persist(demo_page: Page) -> None:
    html = demo_page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")

    demo_page.locator("#setting-theme input[value=dark]").check()
    demo_page.get_by_test_id("setting-language").select_option("de")
    demo_page.get_by_test_id("setting-notifications").uncheck()
    demo_page.get_by_test_id("settings-save").click()

    expect(html).to_have_attribute("data-theme", "dark")
    expect(demo_page.get_by_test_id("settings-status")).to_contain_text("by main")
    changed = demo_page.locator("#event-log li[data-event=settings-changed]")
    expect(changed.first).to_contain_text('"theme":"dark"')
    expect(demo_page.get_by_test_id("toast")).to_have_count(0)  # notifications are off now

    demo_page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(demo_page.locator("#setting-theme input[value=dark]")).to_be_checked()
    expect(demo_page.get_by_test_id("setting-language")).to_have_value("de")
    expect(demo_page.get_by_test_id("setting-notifications")).not_to_be_checked()

    # The header's switch saves too, and this time the notification shows.
    demo_page.get_by_test_id("setting-notifications").check()
    demo_page.get_by_test_id("settings-save").click()
    expect(demo_page.get_by_test_id("toast").first).to_contain_text("changed by window main")
    demo_page.get_by_test_id("theme-toggle").click()
    expect(html).to_have_attribute("data-theme", "light")
    expect(demo_page.locator("#setting-theme input[value=light]")).to_be_checked()


def test_echo_text_json_and_bytes(demo_page: Page) -> None:
    kind = demo_page.get_by_test_id("echo-type")
    value = demo_page.get_by_test_id("echo-value")

    demo_page.get_by_test_id("echo-input").fill("héllo")
    demo_page.get_by_test_id("echo-send").click()
    expect(kind).to_have_text("string")
    expect(value).to_have_text("héllo")

    demo_page.locator("#echo-mode input[value=json]").check()
    demo_page.get_by_test_id("echo-input").fill('{"a": [1, 2, null]}')
    demo_page.get_by_test_id("echo-send").click()
    expect(kind).to_have_text("object")
    expect(value).to_have_text('{"a":[1,2,null]}')

    demo_page.get_by_test_id("echo-input").fill("{oops")
    demo_page.get_by_test_id("echo-send").click()
    expect(value.get_by_test_id("error-message")).to_contain_text("Not valid JSON")

    demo_page.locator("#echo-mode input[value=bytes]").check()
    demo_page.get_by_test_id("echo-input").fill("hé")
    demo_page.get_by_test_id("echo-send").click()
    expect(kind).to_have_text("Uint8Array · 3 bytes")
    expect(value).to_have_text(re.compile(r"^68 c3 a9\s+“hé”$"))


def test_channel_counter_streams_every_value(demo_page: Page) -> None:
    demo_page.get_by_test_id("count-to").fill("300")
    demo_page.get_by_test_id("count-start").click()
    expect(demo_page.get_by_test_id("count-result")).to_contain_text("returned 300")
    expect(demo_page.get_by_test_id("count-value")).to_have_text("300")
    expect(demo_page.get_by_test_id("count-progress")).to_have_js_property("value", 300)

    demo_page.get_by_test_id("count-to").fill("7")
    demo_page.get_by_test_id("count-start").click()
    expect(demo_page.get_by_test_id("count-result")).to_contain_text("returned 7")
    expect(demo_page.get_by_test_id("count-value")).to_have_text("7")


def test_create_user_shows_field_errors_then_creates(demo_page: Page) -> None:
    demo_page.get_by_test_id("user-email").fill("not-an-email")
    demo_page.get_by_test_id("user-submit").click()
    expect(demo_page.get_by_test_id("user-result").get_by_test_id("error-code")).to_have_text(
        "invalid_args"
    )
    expect(demo_page.locator(".field-error[data-field='args.name']")).to_contain_text("at least 1")
    expect(demo_page.locator(".field-error[data-field='args.email']")).not_to_be_empty()
    expect(demo_page.get_by_test_id("user-email")).to_have_attribute("aria-invalid", "true")

    demo_page.get_by_test_id("user-name").fill("Ada Lovelace")
    demo_page.get_by_test_id("user-email").fill("ada@example.com")
    demo_page.get_by_test_id("user-submit").click()
    expect(demo_page.get_by_test_id("user-result")).to_have_text(
        "✓ Created user #1: Ada Lovelace <ada@example.com>"
    )
    expect(demo_page.locator(".field-error:not(:empty)")).to_have_count(0)


def test_read_file_inside_and_outside_the_scope(demo_page: Page) -> None:
    result = demo_page.get_by_test_id("file-result")
    demo_page.get_by_test_id("file-read").click()
    expect(result).to_have_text("hello from a file\n")

    # Outside the capability's scope: the core refuses it.
    demo_page.get_by_test_id("file-path").fill("app.conf.json")
    demo_page.get_by_test_id("file-read").click()
    expect(result.get_by_test_id("error-code")).to_have_text("forbidden")
    # Inside the allowed folder but under the capability's deny entry: denied too.
    demo_page.get_by_test_id("file-path").fill("frontend/secret/key.txt")
    demo_page.get_by_test_id("file-read").click()
    expect(result.get_by_test_id("error-code")).to_have_text("forbidden")
    expect(result).to_contain_text("frontend/secret/**")


def test_narrow_window_has_no_sideways_scroll(demo_page: Page) -> None:
    demo_page.set_viewport_size({"width": 380, "height": 800})
    expect(demo_page.get_by_test_id("greet-submit")).to_be_visible()
    overflow = demo_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def two_window_config(app_dir: Path) -> Path:
    """The demo with a second window, "settings", that may greet and use events only."""
    path = app_dir / "app.conf.json"
    config = json.loads(path.read_text())
    main = next(w for w in config["app"]["windows"] if w["label"] == "main")
    config["app"]["windows"] = [
        main,
        {"label": "settings", "title": "Settings", "url": "index.html"},
    ]
    config["app"]["security"]["capabilities"].append(
        {
            "identifier": "demo-page-second-window",
            "windows": ["settings"],
            "permissions": ["allow-greet", "core:event:default"],
        }
    )
    path.write_text(json.dumps(config))
    return path


def test_second_window_labelled_settings(browser: Browser, app_dir: Path) -> None:
    with serving(two_window_config(app_dir), windows=2) as served:
        main = browser.new_context().new_page()
        main.goto(served.urls["main"])
        other = browser.new_context().new_page()
        other.goto(served.urls["settings"])

        expect(other.get_by_test_id("window-label")).to_have_text("settings")
        expect(other).to_have_title("Demo · settings")
        other.get_by_test_id("greet-submit").click()
        expect(other.get_by_test_id("greet-result")).to_have_text("Hello, World!")
        expect(other.get_by_test_id("clock-ticks")).to_have_text(re.compile(r"^[1-9]\d* ticks?$"))

        # What this window may not do shows as an error where it happens, not as a broken page.
        expect(other.get_by_test_id("items-status").get_by_test_id("error-code")).to_have_text(
            "forbidden"
        )
        expect(other.get_by_test_id("items-status")).to_contain_text("list_items")

        # Its pong comes to it, not to main.
        other.get_by_test_id("ping").click()
        expect(other.get_by_test_id("pong")).to_contain_text("for window settings")
        expect(main.get_by_test_id("pong")).to_be_empty()

        # A save in main reaches this window as "settings-changed" and re-themes it.
        main.locator("#setting-theme input[value=dark]").check()
        main.get_by_test_id("settings-save").click()
        expect(other.locator("html")).to_have_attribute("data-theme", "dark")
        expect(other.get_by_test_id("settings-status")).to_contain_text("Changed by main")
        expect(other.get_by_test_id("toast").first).to_contain_text("changed by window main")

        # Only Python announces saved settings: a page's event of that name is logged, and
        # not applied, whatever it says of itself.
        heard = main.locator("#event-log li[data-event=settings-changed]")
        expect(heard).to_have_count(1)  # Python's, for main's own save
        other.evaluate("window.__APP__.event.emitTo('main', 'settings-changed', "
                       "{settings: {theme: 'light'}, by: 'main'})")
        expect(heard).to_have_count(2)
        expect(main.locator("html")).to_have_attribute("data-theme", "dark")


def test_the_demo_in_brownfield_has_no_hook(page: Page, app_dir: Path) -> None:
    """Switched to brownfield (one line of config), nothing refuses reset_demo: the gallery
    says so, and the capabilities still deny what they deny."""
    path = app_dir / "app.conf.json"
    config = json.loads(path.read_text())
    config["app"]["security"]["pattern"] = {"use": "brownfield"}
    path.write_text(json.dumps(config))
    with serving(path) as served:
        page.goto(served.urls["main"])
        page.get_by_test_id("delete-item-1").click()
        expect(page.get_by_test_id("items-status")).to_have_text("Deleted Apples.")

        panel = page.get_by_test_id("error-result")
        page.get_by_test_id("error-blocked").click()
        expect(panel.get_by_test_id("error-code")).to_have_text("resolved")
        expect(panel.get_by_test_id("error-note")).to_contain_text("without an isolation hook")
        page.get_by_test_id("error-forbidden").click()
        expect(panel.get_by_test_id("error-code")).to_have_text("forbidden")
        # reset_demo ran: Apples are back.
        page.get_by_test_id("items-reload").click()
        expect(page.get_by_test_id("delete-item-1")).to_be_visible()
