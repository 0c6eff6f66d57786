"""An erased example leaves every review sheet; the rows and verdicts around it stay."""

from __future__ import annotations

import csv
from pathlib import Path

from born_assets.review.sheet import drop_sheet_rows

GONE, KEPT = "ex_" + "a" * 24, "ex_" + "b" * 24


def test_a_sheet_loses_the_erased_rows_and_keeps_the_rest_as_it_stands(tmp_path: Path) -> None:
    sheet = tmp_path / "review.csv"
    with sheet.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["verdict", "example_id", "prompt"],  # a reviewer moved the columns about
                ["approve", KEPT, "'=SUM(A1)\\nline two"],
                ["reject", GONE, "the erased prompt"],
            ]
        )
    assert drop_sheet_rows(sheet, {GONE}) == 1
    with sheet.open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["verdict", "example_id", "prompt"],
            ["approve", KEPT, "'=SUM(A1)\\nline two"],
        ]
    lines = tmp_path / "review.jsonl"
    lines.write_text(f'{{"example_id": "{KEPT}"}}\n{{"example_id": "{GONE}", "prompt": "x"}}\n')
    assert drop_sheet_rows(lines, {GONE}) == 1
    assert lines.read_text() == f'{{"example_id": "{KEPT}"}}\n'
    before = lines.stat().st_mtime_ns
    assert drop_sheet_rows(lines, {"ex_" + "c" * 24}) == 0
    assert lines.stat().st_mtime_ns == before  # nothing to drop: not rewritten
