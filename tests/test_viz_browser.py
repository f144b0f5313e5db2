"""The explorer page in a real browser: headless Chromium from the system, driven by Playwright.

No browser is ever downloaded: Playwright is pointed at the system's Chromium (Debian's
``chromium`` package; ``.ci/run`` installs it). Where none is found the tests skip with the
reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tinygrad_course import Tensor, viz
from tinygrad_course.datasets import planar_flower
from tinygrad_course.functional import binary_cross_entropy_with_logits
from tinygrad_course.nn import MLP
from tinygrad_course.train import fit
from tinygrad_course.viz.lesson import lesson_graph
from tinygrad_course.viz.names import Walk
from tinygrad_course.viz.numbers import number

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs chromium and playwright)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    executable = _chromium()
    if executable is None:
        _missing("no system Chromium found (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Session:
    """A page at 1280 × 900 that records console errors and every request it makes."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text)
                     if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def current(self) -> dict[str, Any]:
        """The node marked aria-current="step": its key and whether it lies inside the viewport."""
        return self.page.evaluate("""() => {
            const nodes = document.querySelectorAll('[aria-current="step"]');
            const box = nodes[0].getBoundingClientRect();
            const inside = box.top >= 0 && box.left >= 0
                && box.bottom <= innerHeight && box.right <= innerWidth;
            return {count: nodes.length, key: nodes[0].dataset.key, inside: inside};
        }""")

    def finish(self) -> None:
        assert self.errors == []
        assert self.requests == [self.url]        # the page itself, and nothing else
        self.page.close()


def _two_layer_page(tmp_path: Path) -> tuple[Path, Any]:
    X, Y = planar_flower()
    model = MLP([2, 4, 1], "tanh", init="small", seed=2)
    history = fit(model, X, Y, lr=1.2, iterations=300, record_every=20, snapshot_every=50, progress=False)
    J = binary_cross_entropy_with_logits(model(Tensor(X, name="X")), Tensor(Y, name="Y")).named("J")
    return viz.explore(J, history=history).save(tmp_path / "explorer.html"), history


def test_arrow_keys_move_the_highlight_and_keep_it_in_view(browser: Any, tmp_path: Path) -> None:
    path, _ = _two_layer_page(tmp_path)
    session = Session(browser, path)
    for view, count in (("ops", 18), ("layers", 5)):
        session.page.click(f"#show-{view}")
        seen = [session.current()]
        for _ in range(count - 1):
            session.page.keyboard.press("ArrowRight")
            seen.append(session.current())
        assert all(step["count"] == 1 and step["inside"] for step in seen), seen
        keys = [step["key"] for step in seen]
        assert len(set(keys)) > count // 2 and keys[0] != keys[-1]
        session.page.keyboard.press("ArrowRight")                # past the end: stays on the last
        assert session.current()["key"] == keys[-1]
        for expected in reversed(keys[:-1]):
            session.page.keyboard.press("ArrowLeft")
            now = session.current()
            assert now["key"] == expected and now["inside"]
        captions = session.page.locator("#caption").count()
        assert captions == 1
    session.finish()


def test_clicking_b_in_the_lesson_shows_its_chain_rule_step(browser: Any, tmp_path: Path) -> None:
    J = lesson_graph()
    walk = Walk(J)
    b = next(t for t in walk.tensors if t.name == "b")
    session = Session(browser, viz.explore(J).save(tmp_path / "lesson.html"))
    session.page.click(f"#ops-t{walk.k(b)}")
    detail = session.page.inner_text("#detail")
    assert "dJ/db = dJ/du · du/db = 3 · 2 = 6" in detail
    assert "autograd agrees" in detail
    assert session.page.evaluate("getComputedStyle(document.querySelector('.check')).backgroundColor") \
        == "rgb(227, 244, 225)"                                   # green
    session.finish()


def test_scrubbing_shows_the_recorded_costs(browser: Any, tmp_path: Path) -> None:
    path, history = _two_layer_page(tmp_path)
    session = Session(browser, path)
    scrubber = session.page.locator("#iteration")
    scrubber.focus()
    session.page.keyboard.press("Home")
    first = history.snapshots[0]
    assert session.page.inner_text("#iteration-text") == f"Iteration 0: cost J = {number(first.cost)}"
    assert f"J = {number(first.cost)}" in session.page.text_content("#layers-cost")     # the layer view too
    session.page.keyboard.press("End")
    last = history.snapshots[-1]
    shown = session.page.inner_text("#iteration-text")
    assert shown == f"Iteration {last.iteration}: cost J = {number(last.cost)}"
    assert f"J = {number(last.cost)}" in session.page.text_content("#layers-cost")
    assert first.cost > last.cost
    session.finish()
