"""The docs site, opened in a real browser: Debian's Chromium, headless, driven by Selenium.

`make site` passing `mkdocs --strict` says nothing about what a reader sees: these tests serve
the built site over HTTP on loopback and check it the way a reader would, with nothing from
the internet. Screenshots of the home page and lesson 07 go to .buildlab/screenshots/ (CI
keeps them as artifacts; look at them).
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from buildlab.course.manifest import load_manifest
from buildlab.engine.browser import CHROMEDRIVER, CHROMIUM, FLAGS, browser_present
from buildlab.support.paths import STATE_DIR
from helpers import run_cli

pytestmark = pytest.mark.browser
MANIFEST = load_manifest()
SCREENSHOTS = STATE_DIR / "screenshots"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on an ephemeral loopback port; its base URL."""
    folder = tmp_path_factory.mktemp("site") / "site"
    result = run_cli("site", "--site-dir", str(folder), timeout=600)
    assert result.returncode == 0, result.stderr
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not browser_present():
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `make doctor`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Any, seconds: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def test_the_stylesheet_is_applied_and_nothing_comes_from_the_internet(
    site: str, browser: Any
) -> None:
    browser.get(site)
    header = browser.find_element("css selector", ".md-header")
    # The theme's stylesheet makes the header sticky and coloured; unstyled it is "static".
    assert header.value_of_css_property("position") == "sticky"
    assert header.value_of_css_property("background-color") not in ("", "rgba(0, 0, 0, 0)")
    remote = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(u => !u.startsWith(location.origin))"
    )
    assert remote == [], f"the page loaded from elsewhere: {remote}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "home.png"))


def test_the_navigation_lists_every_lesson(site: str, browser: Any) -> None:
    browser.get(site)
    texts = browser.execute_script(
        "return [...document.querySelectorAll('.md-nav__link')].map(a => a.textContent.trim())"
    )
    missing = [
        lesson.title for lesson in MANIFEST.lessons if not any(lesson.title in t for t in texts)
    ]
    assert not missing, f"not in the navigation: {missing}"


def test_search_finds_a_lesson_by_a_word_of_its_text(site: str, browser: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    lesson = MANIFEST.production_lesson
    browser.get(site)
    # The search box is the theme's own, fed by its offline index (search/search_index.json);
    # on a wide window it sits in the header (a narrow one shows a button to open it).
    box = browser.find_element("css selector", ".md-search__input")
    if not box.is_displayed():
        browser.find_element("css selector", "label[for='__search']").click()
    _wait(browser, lambda d: box.is_displayed() and box.is_enabled())
    box.click()
    box.send_keys("HEALTHCHECK")
    box.send_keys(Keys.SPACE)
    # The results are drawn again as the index answers: read every link in one script, so an
    # element replaced between two reads is never asked for its address.
    read = "return [...document.querySelectorAll('.md-search-result__item a')].map(a => a.href)"
    targets = _wait(
        browser,
        lambda d: (
            (found := d.execute_script(read))
            and any(f"lessons/{lesson.id}/" in href for href in found)
            and found
        ),
    )
    assert any(f"lessons/{lesson.id}/" in href for href in targets), targets
    browser.get(urllib.parse.urljoin(site, f"lessons/{lesson.id}/"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"lesson-{lesson.id[:2]}.png"))


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((tag == "a" and name == "href") or name == "src"):
                self.found.append(value)


def test_every_internal_link_answers(site: str) -> None:
    seen: set[str] = set()
    queue = [site]
    broken = []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
                kind = response.headers.get_content_type()
        except urllib.error.HTTPError as error:
            broken.append(f"{url}: HTTP {error.code}")
            continue
        if kind != "text/html":
            continue
        links = _Links()
        links.feed(body.decode(errors="replace"))
        for href in links.found:
            absolute = urllib.parse.urljoin(url, href).split("#", 1)[0]
            if absolute.startswith(site) and absolute not in seen:
                queue.append(absolute)
    assert len(seen) > len(MANIFEST.lessons), f"only {len(seen)} pages and files reached"
    assert not broken, broken
