"""A release manager reads the graph and the transparency table in the UI: a browser must show them.

GraphQL answering is not the same as a page rendering: this drives the real webserver in headless
Chromium (Debian's, installed here when missing; never `playwright install`) the way a person
would, after `born release` cut v1 into the same instance, and keeps screenshots of what it saw in
the git-ignored `.screenshots/` (the README's graph picture comes from there).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    FloatRect,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from born_assets.defs.location import source_keys
from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets.specs.project import Project
from born_assets_tests.conftest import copy_sample_data
from born_assets_tests.webserver import REPO, Webserver, instance_home, running_webserver

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / ".screenshots"
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
GRAPH_VIEWPORT: ViewportSize = {"width": 2200, "height": 1000}
VERSION = "v1"
TIMEOUT_MS = 60_000


def ensure_chromium() -> Path:
    """Debian's Chromium, installed by apt-get when absent (as root, or with `sudo -n`)."""
    if CHROMIUM.exists():
        return CHROMIUM
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(
            [*sudo, *command], env=env, capture_output=True, text=True, timeout=1200, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"cannot install chromium ({' '.join(command)}): {done.stderr[-2000:]}")
    assert CHROMIUM.exists(), "apt-get installed chromium but /usr/bin/chromium is missing"
    return CHROMIUM


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample_data(tmp_path_factory.mktemp("browser") / "data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[Webserver]:
    """The webserver on an instance where `born release` already built the graph and cut v1."""
    home = instance_home(data_dir.parent / "dagster_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        result = materialize_release(DataDir.at(data_dir), VERSION)
    assert result.success, failure_messages(result)
    with running_webserver(home, data_dir) as webserver:
        yield webserver


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(server: Webserver, browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (so the UI's first-visit dialog may show) on the webserver."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def open_ui(page: Page, path: str, ready_text: str) -> None:
    """Open a page, wait for `ready_text`, and skip the "Join the Dagster community" dialog."""
    page.goto(path)
    expect(page.get_by_text(ready_text).first).to_be_visible()
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=3_000)
    except PlaywrightTimeout:
        return
    skip.click()
    expect(skip).to_be_hidden()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def graph_tools(page: Page) -> list[Locator]:
    """The lineage graph's buttons in the lower right corner: zoom in, zoom out, settings, ..."""
    size = page.viewport_size
    assert size is not None
    return [
        button
        for button in page.locator("button").all()
        if (box := button.bounding_box())
        and box["x"] > size["width"] - 60
        and box["y"] > size["height"] / 2
    ]


def graph_menu(page: Page, item: str) -> None:
    """Pick an entry of the lineage graph's settings menu (the gear under the zoom buttons)."""
    graph_tools(page)[2].click()
    page.get_by_role("menuitem", name=item).click()


def hide_asset_tree(page: Page) -> None:
    """Fold the asset tree left of the graph (the button right of "Jump to…")."""
    jump = page.get_by_placeholder("Jump to…").bounding_box()
    assert jump is not None
    for button in page.locator("button").all():
        box = button.bounding_box()
        if box and abs(box["y"] - jump["y"]) < 5 and 0 < box["x"] - jump["x"] < jump["width"] + 40:
            button.click()
            return
    raise AssertionError("no button to fold the asset tree")


def graph_clip(nodes: Locator, margin: float = 30) -> FloatRect:
    """The part of the page holding every node of the graph, with a margin."""
    boxes = [box for node in nodes.all() if (box := node.bounding_box())]
    left = max(min(b["x"] for b in boxes) - margin, 0)
    top = max(min(b["y"] for b in boxes) - margin, 0)
    right = max(b["x"] + b["width"] for b in boxes) + margin
    bottom = max(b["y"] + b["height"] for b in boxes) + margin
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def shown_as(name: str, label: str) -> bool:
    """Whether a node label (middle-truncated with "…" when long) shows asset name `name`."""
    if "…" not in label:
        return label == name
    head, tail = label.split("…", 1)
    return name.startswith(head) and name.endswith(tail) and len(name) > len(head + tail)


def unmatched(names: list[str], labels: list[str]) -> list[str]:
    """Names that no node label shows, each label showing at most one name."""
    free = list(labels)
    missing = []
    for name in sorted(names, key=lambda n: sum(shown_as(n, label) for label in labels)):
        found = next((label for label in free if shown_as(name, label)), None)
        if found is None:
            missing.append(name)
        else:
            free.remove(found)
    return missing


def test_the_asset_graph_shows_every_lane_and_import(page: Page, data_dir: Path) -> None:
    page.set_viewport_size(GRAPH_VIEWPORT)  # wide: the sources sit side by side
    open_ui(page, "/asset-groups", "Materialize all")
    page.get_by_text("Hide navigation").click()
    graph_menu(page, "Expand all groups")
    graph_menu(page, "Change graph to vertical orientation")
    page.reload()  # laid out again and zoomed to fit, with the groups expanded
    boxes = page.locator('[class*="AssetNode_minimalAssetNodeBox"]')
    expect(boxes.first).to_be_visible()
    # `born release` materialized every asset: each node turns green once the UI has read that.
    expect(boxes.and_(page.locator('[style*="background-green"]'))).to_have_count(boxes.count())
    labels = [n.inner_text() for n in page.locator('[class*="AssetNode_assetName"]').all()]
    sources = [key.path[1] for key in source_keys(Project.load(DataDir.at(data_dir)))]
    specs = [*(data_dir / "manifests").glob("*.yaml"), *(data_dir / "imports").glob("*.yaml")]
    assert len(sources) == len(specs)
    assert unmatched(sources, labels) == [], labels
    assert unmatched(["sanitized", "gated", "deduplicated", "release"], labels) == [], labels
    assert all(box.is_visible() for box in boxes.all())
    screenshot(page, "graph_page")
    hide_asset_tree(page)
    page.wait_for_timeout(1_000)  # let the graph slide into the freed space
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "graph.png", clip=graph_clip(boxes))


def test_the_release_and_its_transparency_table_show_in_the_ui(page: Page, data_dir: Path) -> None:
    open_ui(page, "/assets/release", "Latest materialization")
    expect(page.get_by_text(VERSION, exact=True).first).to_be_visible()
    expect(page.get_by_text("Latest check results")).to_be_visible()
    expect(page.get_by_text("Immutable once published.", exact=False).first).to_be_visible()
    screenshot(page, "release")

    open_ui(page, "/assets/transparency_table", "Latest materialization")
    expect(page.get_by_text("Show schema")).to_be_visible()
    table = page.locator("table").filter(has_text="rows_read").last  # inside the metadata table
    for column in ("benchmark_family", "rows_read", "quarantined", "released", "score_mean"):
        expect(table.get_by_text(column, exact=True)).to_be_visible()
    for key in source_keys(Project.load(DataDir.at(data_dir))):
        expect(table.get_by_text(key.path[1], exact=True)).to_have_count(1)
    table.scroll_into_view_if_needed()
    screenshot(page, "transparency_table")
