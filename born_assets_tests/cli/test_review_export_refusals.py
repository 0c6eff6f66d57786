"""`born review export` writes row content only where an erasure reaches it, never in a release.

A sheet holds prompts and responses: one written outside the data dir escapes every erasure, one
written into a published release breaks `born verify`. Its name, the lane in its default name
and its folder are therefore checked before any row is read, as is the sample size (a negative
one reached DuckDB's LIMIT as a raw BinderException). Each refusal is exit 2 and one line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from born_assets.cli.main import main
from born_assets.layout import OutsideDataDir
from born_assets.review.sheet import export_review_sheet


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name", "../../../escaped-sheet"], "review sheet name"),
        (["--name", ".hidden"], "review sheet name"),
        (["--name", ""], "review sheet name"),
        (["--lane", "../../escaped"], "review sheet name"),
        (["--out", "{data}/releases/v1"], "--out: "),
        (["--out", "{data}/releases"], "--out: "),
        (["--out", "{data}/../elsewhere"], "--out: "),
        (["--sample-n", "-3"], "--sample-n must be >= 1, got -3"),
        (["--sample-n", "0"], "--sample-n must be >= 1, got 0"),
    ],
)
def test_a_bad_name_folder_or_size_is_refused_before_anything_is_read(
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    argv = [a.format(data=data_dir) for a in argv]
    before = sorted(p for p in tmp_path.rglob("*"))
    assert main(["--data-dir", str(data_dir), "review", "export", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"born: {message}") and captured.err.count("\n") == 1
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_the_sheet_writer_refuses_a_name_that_leaves_its_folder(tmp_path: Path) -> None:
    rows = pd.DataFrame({"example_id": ["a"], "origin_id": ["lane-a"]})
    with pytest.raises(OutsideDataDir, match="is not a plain folder name"):
        export_review_sheet(rows, tmp_path / "sheets", sample_n=1, name="../escaped")
    assert list(tmp_path.iterdir()) == []
