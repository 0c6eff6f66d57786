"""An erasure request must be honoured everywhere: warehouse, every release, and later ingests.

After `born erase`, no Parquet file on disk may hold the erased row's content, releases are
rewritten and still verify, and the tombstone keeps refusing the row even if the request goes.
"""

from __future__ import annotations

import csv
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from born_assets.cli.main import main
from born_assets.defs.runner import failure_messages, materialize_graph
from born_assets.ingest.readers import iter_records
from born_assets.layout import DataDir
from born_assets.release.publish import read_release_json, verify_release
from born_assets.specs.common import SpecError
from born_assets.specs.erasure import (
    ErasureFilter,
    ErasureRequest,
    ErasureTarget,
    load_requests,
    load_tombstones,
)
from born_assets_tests.graph import built_release

ROW = {
    "example_id": "ex_1",
    "origin_kind": "import",
    "origin_id": "chats",
    "source_benchmark": "swebench_lite",
    "source_id": "django__django-1",
    "prompt": "please call me at alice@example.org",
    "response": "## Result\nok",
}


def request(**target: str) -> ErasureRequest:
    return ErasureRequest(
        id="ER-1",
        requester="dpo@born.example",
        reason="asked",
        requested_at=datetime(2026, 11, 1, tzinfo=UTC),
        target=ErasureTarget(**target),
    )


@pytest.mark.parametrize(
    ("target", "erased"),
    [
        ({"example_id": "ex_1"}, True),
        ({"example_id": "ex_2"}, False),
        ({"source_benchmark": "swebench_lite", "source_id": "django__django-1"}, True),
        ({"import_id": "chats", "import_row_id": "django__django-1"}, True),
        ({"origin": "imports/chats"}, True),
        ({"origin": "lanes/chats"}, False),
        ({"pattern": r"alice@example\.org"}, True),
        ({"pattern": "bob"}, False),
    ],
)
def test_each_kind_of_target_matches_exactly_its_rows(target: dict, erased: bool) -> None:
    found = ErasureFilter([request(**target)]).request_for(ROW, "0" * 64)
    assert (found == "ER-1") is erased


def test_a_tombstone_erases_by_example_id_or_raw_line_hash() -> None:
    eraser = ErasureFilter([], {"ex_1": "ER-9", "f" * 64: "ER-8"})
    assert eraser.request_for(ROW, "0" * 64) == "ER-9"
    assert eraser.request_for({**ROW, "example_id": "ex_x"}, "f" * 64) == "ER-8"


HEAD = "requests:\n- id: A\n  reason: x\n  requested_at: 2026-01-01T00:00:00Z\n"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            HEAD + "  requester: r\n  target: {}\n",
            "requests.0.target",
        ),
        (
            HEAD + "  requester: r\n  target: {pattern: '('}\n",
            "requests.0.target.pattern",
        ),
        (
            HEAD + "  target: {example_id: e}\n",
            "requests.0.requester",
        ),
        # An empty target was recorded, passed the preflight and erased nothing.
        (HEAD + "  requester: r\n  target: {example_id: ''}\n", "requests.0.target.example_id"),
        (
            HEAD + "  requester: r\n  target: {source_benchmark: b, source_id: ' '}\n",
            "requests.0.target.source_id",
        ),
        (HEAD + "  requester: r\n  target: {pattern: ''}\n", "requests.0.target.pattern"),
        (HEAD + "  requester: r\n  target: {pattern: 'x*'}\n", "requests.0.target.pattern"),
    ],
)
def test_a_bad_requests_file_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / "erasure").mkdir()
    (tmp_path / "erasure" / "requests.yaml").write_text(text)
    error = load_requests(DataDir.at(tmp_path))
    assert isinstance(error, SpecError) and error.field == field


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--pattern", ""], "born: --pattern: must not match the empty string"),
        (["--pattern", "("], "born: --pattern: not a valid regular expression: missing )"),
        (["--example-id", " "], "born: --example-id: must not be empty"),
        (["--source", "nocolon"], "born: --source: 'nocolon' is not BENCHMARK:TASK_ID"),
        (["--source", "bench:"], "born: --source: 'bench:' is not BENCHMARK:TASK_ID"),
        (["--import-row", ":7"], "born: --import-row: ':7' is not IMPORT_ID:SOURCE_ROW_ID"),
        (["--origin", "elsewhere"], "born: --origin: String should match pattern"),
        (["--example-id", "e", "--id", "../x"], "born: --id: String should match pattern"),
    ],
)
def test_born_erase_refuses_an_empty_or_malformed_target_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    who = ["--reason", "r", "--requester", "a@b.co", "--dry-run"]
    assert main(["--data-dir", str(tmp_path), "erase", *argv, *who]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(expected) and captured.err.count("\n") == 1
    assert not (tmp_path / "erasure").exists()


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_release(tmp_path_factory.mktemp("erasure") / "data")


def parquet_files_holding(data_dir: Path, example_id: str) -> list[str]:
    """Every Parquet file under the data dir whose rows still carry this example's content."""
    holding = []
    for path in data_dir.rglob("*.parquet"):
        table = pq.read_table(path)
        if "example_id" not in table.column_names:
            continue
        rows = [r for r in table.to_pylist() if r["example_id"] == example_id]
        content = [r for r in rows if r.get("prompt") or r.get("response") or r.get("raw_line")]
        live = [r for r in rows if r.get("fate") not in (None, "erased")]
        if content or live:
            holding.append(path.relative_to(data_dir).as_posix())
    return holding


def test_erasure_removes_the_row_from_every_file_and_releases_still_verify(
    released: Path, tmp_path: Path, capsys
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(released, data_dir, symlinks=True)
    example_id = _example(data_dir, "swebench-lite-gold")
    assert parquet_files_holding(data_dir, example_id)
    review = ["review", "export", "--release", "v1", "--lane", "swebench-lite-gold"]
    assert main(["--data-dir", str(data_dir), *review, "--sample-n", "1000"]) == 0
    sheets = sorted((data_dir / "reviews" / "sheets").iterdir())
    assert len(sheets) == 2 and all(example_id in p.read_text() for p in sheets)
    # test results (failures may quote a row's code) and check results (failing examples): an
    # entry written before the erasure stands for one that may quote the erased row
    caches = [Path(os.environ["BORN_EXECUTION_CACHE"]), data_dir / "cache" / "checks"]
    before = [cache / "zz" / "written-before.json" for cache in caches]
    for entry in before:
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text('{"detail": "a failure quoting the erased row"}')
    args = ["--data-dir", str(data_dir), "erase", "--example-id", example_id]
    who = ["--reason", "data subject request", "--requester", "dpo@born.example", "--id", "ER-7"]
    assert main([*args, *who, "--dry-run"]) == 0
    assert "release v1: 1 rows" in capsys.readouterr().out
    assert not (data_dir / "erasure" / "requests.yaml").exists()
    assert main([*args, *who]) == 0
    assert parquet_files_holding(data_dir, example_id) == []
    assert [example_id in p.read_text() for p in sheets] == [False, False]
    csv_sheet, jsonl_sheet = sheets
    with csv_sheet.open(newline="") as handle:
        assert len(list(csv.reader(handle))) == 1 + 59  # the header and the 59 other rows
    assert len(jsonl_sheet.read_text().splitlines()) == 59
    assert not any(entry.exists() for entry in before)  # emptied; this build's own may follow
    folder = data_dir / "releases" / "v1"
    assert verify_release(folder) == []
    document = read_release_json(folder)
    assert document["erasures"][-1]["rows_by_request"] == {"ER-7": 1}
    assert document["counts_by_fate"]["erased"] == 1
    assert [t.request_id for t in load_tombstones(DataDir.at(data_dir))] == ["ER-7"]


def test_the_tombstone_refuses_the_row_after_the_request_is_removed(
    released: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(released, data_dir, symlinks=True)
    example_id = _example(data_dir, "bigcodebench-reference")
    who = ["--reason", "r", "--requester", "dpo@born.example", "--id", "ER-8"]
    assert main(["--data-dir", str(data_dir), "erase", "--example-id", example_id, *who]) == 0
    (data_dir / "erasure" / "requests.yaml").unlink()
    result = materialize_graph(DataDir.at(data_dir))
    assert result.success, failure_messages(result)
    assert parquet_files_holding(data_dir, example_id) == []
    quarantine = pq.read_table(
        data_dir / "warehouse" / "lanes" / "bigcodebench-reference" / "quarantine.parquet"
    ).to_pylist()
    (stone,) = [q for q in quarantine if q["example_id"] == example_id]
    assert (stone["reason"], stone["field"], stone["raw_line"]) == ("erased", "ER-8", "")


def _example(data_dir: Path, origin_id: str) -> str:
    shards = (data_dir / "releases" / "v1" / "data").glob("train-*.parquet")
    rows = (r for shard in sorted(shards) for r in pq.read_table(shard).to_pylist())
    return next(r["example_id"] for r in rows if r["origin_id"] == origin_id)


def test_erasing_a_whole_lane_leaves_no_byte_of_it_under_the_data_dir(
    released: Path, tmp_path: Path, capsys
) -> None:
    """The lane has malformed lines too (bad JSON, not UTF-8, missing fields): all are erased."""
    data_dir = tmp_path / "data"
    shutil.copytree(released, data_dir, symlinks=True)
    assert (data_dir / "similarity" / "v1").is_dir()
    who = ["--reason", "withdrawn", "--requester", "dpo@born.example", "--id", "ER-9"]
    origin = ["--origin", "lanes/mbpp-plus-reference"]
    assert main(["--data-dir", str(data_dir), "erase", *origin, *who]) == 0
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "erase", "--verify", "ER-9"]) == 0
    out = capsys.readouterr().out
    files = sorted((data_dir / "lanes" / "mbpp-plus-reference").glob("*.jsonl"))
    lines = sum(1 for path in files for _ in iter_records(path))
    assert out.startswith(f"request ER-9: {lines} erased lines, ")
    assert out.rstrip().endswith(": 0 found")
    assert verify_release(data_dir / "releases" / "v1") == []
    # The scan is not blind: one erased line's text copied into a review sheet is found.
    sheet = data_dir / "reviews" / "sheets" / "leak.jsonl"
    sheet.parent.mkdir(parents=True, exist_ok=True)
    sheet.write_bytes(files[0].read_bytes().splitlines()[0])
    assert main(["--data-dir", str(data_dir), "erase", "--verify", "ER-9"]) == 1
    out = capsys.readouterr().out
    assert "reviews/sheets/leak.jsonl: " in out and not out.rstrip().endswith(": 0 found")
