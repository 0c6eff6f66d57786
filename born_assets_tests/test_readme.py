"""The README is what a new user reads first: its asset table and links must hold on a fresh clone.

The asset table is generated from the definitions (an asset added without updating the README
fails here), and every relative link must point at a file of the repo (a clone has nothing else).
"""

from __future__ import annotations

import re

from born_assets.defs.asset_table import END, START, asset_table
from born_assets_tests.conftest import REPO, SAMPLE_DATA
from born_assets_tests.graph import definitions

README = REPO / "README.md"


def test_the_asset_table_is_the_one_the_definitions_generate() -> None:
    text = README.read_text(encoding="utf-8")
    shown = text[text.index(START) : text.index(END) + len(END)]
    assert shown == asset_table(definitions(SAMPLE_DATA)), (
        "README.md's asset table is stale: paste the output of "
        "`python -m born_assets.defs.asset_table`"
    )


def test_every_relative_link_points_into_the_repo() -> None:
    for path in [README, *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:|#", target):
                continue
            resolved = (path.parent / target.split("#")[0]).resolve()
            assert resolved.is_relative_to(REPO), f"{path.name} links outside the repo: {target}"
            assert resolved.exists(), f"{path.name} links to a missing file: {target}"
