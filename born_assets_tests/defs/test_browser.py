"""A release manager's day in the UI: a browser must show it, the way a person would see it.

GraphQL answering is not the same as a page rendering: this drives the real `dagster dev` (the
webserver and the daemon that takes launched runs off the queue, as `make ui` runs them) in
headless Chromium (Debian's, installed here when missing; never `playwright install`), after
`born release` cut v1 into the same instance. In file order it reads the graph and the
transparency table, launches a release from the UI and reads its table, opens the lineage of a
released row, and then plants a hidden-reasoning marker to see a failed check say why and block the
next release. Screenshots of what it saw go to the git-ignored `.screenshots/`, or to the folder
named by `BORN_SCREENSHOTS` (`make screenshots` writes the README's pictures into
`docs/screenshots/`).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
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

from born_assets.defs.assets.release import RELEASE_VERSIONS
from born_assets.defs.automation import RELEASE_JOB
from born_assets.defs.location import source_keys
from born_assets.defs.runner import FROM_TAG, failure_messages, materialize_release
from born_assets.layout import ROWS, DataDir
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
SCREENSHOTS = Path(os.environ.get("BORN_SCREENSHOTS") or REPO / ".screenshots")
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
GRAPH_VIEWPORT: ViewportSize = {"width": 2200, "height": 1000}
LINEAGE_VIEWPORT: ViewportSize = {"width": 1600, "height": 1400}
VERSION = "v1"
UI_VERSION = "v2"
REFUSED_VERSION = "v3"
TIMEOUT_MS = 60_000
RUN_TIMEOUT_S = 900.0  # a bound, not a target: CI machines have run the suite 3x slower than here
MENU_TRIES = 6
MENU_TIMEOUT_MS = 10_000


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
    """`dagster dev` on an instance where `born release` already built the graph and cut v1."""
    home = instance_home(data_dir.parent / "dagster_home")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(home))
        result = materialize_release(DataDir.at(data_dir), VERSION)
    assert result.success, failure_messages(result)
    with running_webserver(home, data_dir, daemon=True) as webserver:
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


def screenshot(page: Page, name: str, clip: FloatRect | None = None) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, clip=clip)
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
    """Pick an entry of the lineage graph's settings menu (the gear under the zoom buttons).

    While the graph lays itself out again (after its groups expand, or its statuses load) it can
    re-render and close the open menu under the pointer; the menu is then opened again, as a
    person would, rather than waited on.
    """
    entry = page.get_by_role("menuitem", name=item)
    for _ in range(MENU_TRIES):
        graph_tools(page)[2].click()
        try:
            entry.click(timeout=MENU_TIMEOUT_MS)
            expect(entry).to_be_hidden()  # the menu closes once its entry is picked
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"the graph's settings menu closed {MENU_TRIES} times before {item!r}")


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
    hide_asset_tree(page)
    page.wait_for_timeout(1_000)  # let the graph slide into the freed space
    screenshot(page, "graph", clip=graph_clip(boxes))


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


def reload_until_visible(
    page: Page, target: Locator, click: Locator | None = None, timeout_s: float = RUN_TIMEOUT_S
) -> None:
    """Reload the page (and `click`) until `target` shows: a run ends, a page's data arrives."""
    for _ in range(int(timeout_s / 5)):
        if click is not None:
            click.click()
        try:
            expect(target).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            page.reload()
    expect(target).to_be_visible()


def launch_release_from_ui(page: Page, version: str, shot: str | None = None) -> None:
    """Jobs > cut_release > Materialize all, "Add a partition" `version`, launch its one run."""
    open_ui(page, f"/locations/born_assets/jobs/{RELEASE_JOB}", "Materialize all")
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    reload_until_visible(page, dialog, click=page.get_by_text("Materialize all").first)
    dialog.get_by_text("Add a partition").click()
    add = page.get_by_role("dialog").filter(has_text=f"Add a partition for {RELEASE_VERSIONS.name}")
    add.get_by_role("textbox").fill(version)
    add.get_by_role("button", name="Save").click()
    expect(add).to_be_hidden()
    launch = dialog.get_by_role("button", name="Launch 1 run")
    expect(launch).to_be_enabled()
    if shot:
        screenshot(page, shot)
    launch.click()
    expect(page.get_by_text("Launched run")).to_be_visible()


def finished_run(server: Webserver, version: str) -> dict[str, object]:
    """The run the UI launched for release `version`, once the daemon has run it to its end."""
    (run,) = server.runs({"dagster/partition": version})
    server.wait_for_run(str(run["runId"]), timeout_s=RUN_TIMEOUT_S)
    (run,) = server.runs({"dagster/partition": version})
    return run


def test_a_release_launched_from_the_ui_runs_as_cut_release_and_shows_its_table(
    page: Page, server: Webserver, data_dir: Path
) -> None:
    launch_release_from_ui(page, UI_VERSION, shot="launch_release")
    run = finished_run(server, UI_VERSION)
    assert (run["jobName"], run["status"]) == (RELEASE_JOB, "SUCCESS"), server.log_tail()
    assert DataDir.at(data_dir).release(UI_VERSION).is_published()

    # The runs list holds the CLI's two runs (tagged by born) and the UI's release, one timeline.
    open_ui(page, "/runs", "Launched by")
    expect(page.get_by_text(f"partition: {UI_VERSION}", exact=True)).to_be_visible()
    expect(page.get_by_text(f"partition: {VERSION}", exact=True)).to_be_visible()
    expect(page.get_by_text(f"{FROM_TAG}: cli", exact=True)).to_have_count(2)
    expect(page.get_by_text(RELEASE_JOB, exact=True)).to_have_count(2)
    screenshot(page, "runs")

    open_ui(
        page, f"/assets/release?view=partitions&partition={UI_VERSION}", "changes_since_previous"
    )
    expect(page.get_by_text(f"identical to {VERSION}", exact=True)).to_be_visible()
    open_ui(page, f"/assets/transparency_table?partition={UI_VERSION}", "Latest materialization")
    expect(page.get_by_text(UI_VERSION, exact=True).first).to_be_visible()
    table = page.locator("table").filter(has_text="rows_read").last
    for key in source_keys(Project.load(DataDir.at(data_dir))):
        expect(table.get_by_text(key.path[1], exact=True)).to_have_count(1)
    table.scroll_into_view_if_needed()
    screenshot(page, f"transparency_table_{UI_VERSION}")


def test_a_released_rows_lineage_opens_as_the_path_from_its_source_to_the_release(
    page: Page, data_dir: Path
) -> None:
    """The path one released row took through the graph: its source, each stage, the release."""
    release = DataDir.at(data_dir).release(VERSION)
    row = pq.read_table(release.shards()[0], columns=["example_id", "origin_id"]).to_pylist()[0]
    (origin,) = [
        k for k in source_keys(Project.load(DataDir.at(data_dir))) if k.path[1] == row["origin_id"]
    ]
    selection = f'key:"{origin.to_user_string()}"+ and +key:"release"'
    page.set_viewport_size(LINEAGE_VIEWPORT)  # tall: governance sits above curation
    open_ui(page, f"/asset-groups~{quote(selection, safe='')}/", "Global asset lineage")
    graph_menu(page, "Expand all groups")
    page.reload()  # laid out again and zoomed to fit, with the groups expanded
    expect(page.locator('[class*="AssetNode_assetName"]').first).to_be_visible()
    hide_asset_tree(page)
    page.wait_for_timeout(1_000)  # let the graph slide into the freed space
    labels = [n.inner_text() for n in page.locator('[class*="AssetNode_assetName"]').all()]
    path = [origin.path[1], "sanitized", "gated", "deduplicated", "release"]
    assert unmatched(path, labels) == [], labels
    others = [k.path[1] for k in source_keys(Project.load(DataDir.at(data_dir))) if k != origin]
    assert unmatched(others, labels) == others, labels  # no other source is on the row's path
    screenshot(page, "row_lineage")


def plant_hidden_reasoning(data_dir: Path) -> dict[str, object]:
    """Put a `<think>` block back into the first sanitized row, as a sanitizer bug would."""
    path = DataDir.at(data_dir).warehouse / "sanitized" / ROWS
    table = pq.read_table(path)
    first = pa.array([i == 0 for i in range(table.num_rows)])
    response = table.column("response")
    planted = pc.if_else(
        first, pc.binary_join_element_wise("<think>kept</think> ", response, ""), response
    )
    index = table.schema.get_field_index("response")
    pq.write_table(table.set_column(index, table.schema.field(index), planted), path)
    return dict(
        table.slice(0, 1).select(["example_id", "source_file", "source_line"]).to_pylist()[0]
    )


def test_a_failed_check_says_why_in_the_ui_and_blocks_the_next_release(
    page: Page, server: Webserver, data_dir: Path
) -> None:
    row = plant_hidden_reasoning(data_dir)
    open_ui(
        page, "/assets/sanitized?view=checks&checkDetail=no_hidden_reasoning", "Latest execution"
    )
    page.get_by_role("button").filter(has_text=re.compile(r"^Execute$")).click()
    why = (
        f"1 rows still holding hidden markers. First: {row['example_id']} "
        f"({row['source_file']} line {row['source_line']}): markers ['<think>', '</think>']"
    )
    reload_until_visible(page, page.get_by_text(why, exact=True))
    expect(page.get_by_text("Failed", exact=True).first).to_be_visible()
    screenshot(page, "failed_check")

    launch_release_from_ui(page, REFUSED_VERSION)
    run = finished_run(server, REFUSED_VERSION)
    assert run["status"] == "FAILURE", server.log_tail()
    assert not DataDir.at(data_dir).release(REFUSED_VERSION).is_published()
    open_ui(page, f"/runs/{run['runId']}", "STEP_FAILURE")
    refusal = page.get_by_text("release refused: 1 blocking check(s) did not pass", exact=False)
    expect(refusal.first).to_be_visible()
    # The picture ends under the refusal's three lines: the stack trace below names local paths.
    refusal.first.scroll_into_view_if_needed()
    box = refusal.first.bounding_box()
    assert box is not None
    expect(
        page.get_by_text("sanitized:no_hidden_reasoning failed in run", exact=False).first
    ).to_be_visible()
    above: FloatRect = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": box["y"] + 56}
    screenshot(page, "release_refused", clip=above)
