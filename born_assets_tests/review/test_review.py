"""Human review verdicts must land on the exact text the reviewer saw, or not at all.

A verdict imported onto a row whose response changed since export would approve text nobody
read; a typo in a verdict column silently read as "approved" would do the same. The sheet carries
hashes so the import can tell, and it refuses the whole sheet naming every offending line.
"""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pandas as pd
import pytest

from born_assets.cli.main import build_parser
from born_assets.layout import DataDir
from born_assets.review.candidates import review_candidates, row_hashes
from born_assets.review.records import RECORD_COLUMNS, load_review_table, write_review_records
from born_assets.review.rules import (
    NO_REVIEWS_SQL,
    REVIEW_BLOCK_SQL,
    REVIEW_COLUMNS_SQL,
    ReviewBlock,
    review_block,
    review_join_sql,
)
from born_assets.review.sheet import (
    SHEET_COLUMNS,
    ReviewSheetError,
    export_review_sheet,
    response_sha256,
    sample_rows,
)
from born_assets.review.verdicts import current_hashes, import_review_sheet
from born_assets.schemas.identity import prompt_hash
from born_assets_tests.graph import materialize_all

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def candidates(count: int = 6) -> pd.DataFrame:
    rows = []
    for n in range(count):
        prompt = f"Task {n}" if n != 1 else '=HYPERLINK("http://x")'
        rows.append(
            {
                "example_id": f"ex_{n:024x}",
                "origin_id": "lane-a" if n % 2 == 0 else "lane-b",
                "source_id": f"T/{n}",
                "prompt_hash": prompt_hash(prompt),
                "curation_score": 0.5 + n / 100,
                "is_structural_ok": True,
                "is_format_ok": n != 3,
                "is_length_ok": True,
                "soft_failure_reasons": "",
                "prompt": prompt,
                "response": f"## Plan\nDo {n}.\n\n## Code\n```python\nx = {n}\n```\n",
            }
        )
    return pd.DataFrame(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(SHEET_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def fill(path: Path, verdicts: dict[int, str], **cells: dict[int, str]) -> list[dict[str, str]]:
    rows = read_csv(path)
    for index, verdict in verdicts.items():
        rows[index]["verdict"] = verdict
    for column, values in cells.items():
        for index, value in values.items():
            rows[index][column] = value
    write_csv(path, rows)
    return rows


def test_the_sample_depends_on_the_seed_not_on_row_order() -> None:
    rows = candidates(20)
    first = sample_rows(rows, 5, seed=1)["example_id"].tolist()
    shuffled = sample_rows(rows.sample(frac=1, random_state=3), 5, seed=1)["example_id"].tolist()
    assert first == shuffled and first != sample_rows(rows, 5, seed=2)["example_id"].tolist()
    assert set(sample_rows(rows, 50, lane="lane-b")["origin_id"]) == {"lane-b"}


def test_an_exported_sheet_has_hashes_verdicts_empty_and_both_formats(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path, sample_n=4, seed=7)
    assert sheet.csv_path.name == "review-all-s7-n4.csv" and len(sheet.example_ids) == 4
    assert list(sheet.example_ids) == sorted(sheet.example_ids)
    exported = read_csv(sheet.csv_path)
    lines = [orjson.loads(x) for x in sheet.jsonl_path.read_bytes().splitlines()]
    assert [r["example_id"] for r in exported] == [r["example_id"] for r in lines]
    by_id = rows.set_index("example_id")
    for row in lines:
        assert row["response_sha256"] == response_sha256(by_id.loc[row["example_id"], "response"])
        assert (row["verdict"], row["reviewer_id"], row["notes"]) == ("", "", "")
        assert row["response"] == by_id.loc[row["example_id"], "response"]
    with pytest.raises(FileExistsError):
        export_review_sheet(rows, tmp_path, sample_n=4, seed=7)


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(tmp_path: Path) -> None:
    sheet = export_review_sheet(candidates(), tmp_path, sample_n=6, lane="lane-b")
    cells = {r["example_id"]: r["prompt"] for r in read_csv(sheet.csv_path)}
    assert cells[f"ex_{1:024x}"] == '\'=HYPERLINK("http://x")'
    jsonl = {
        orjson.loads(x)["example_id"]: orjson.loads(x)
        for x in sheet.jsonl_path.read_bytes().splitlines()
    }
    assert jsonl[f"ex_{1:024x}"]["prompt"] == '=HYPERLINK("http://x")'  # JSONL keeps the text


def test_a_filled_sheet_round_trips_into_review_records(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path / "sheets", sample_n=4)
    filled = fill(
        sheet.csv_path,
        {0: "approved", 1: " Rejected ", 3: "needs_review"},
        reviewer_id={3: "bob@example.com"},
        notes={1: "wrong answer"},
    )
    records = import_review_sheet(
        sheet.csv_path, "alice@example.com", current_hashes(rows), now=NOW
    )
    assert list(records.columns) == list(RECORD_COLUMNS)
    got = {r["example_id"]: r for r in records.to_dict("records")}
    assert {k: v["human_review_status"] for k, v in got.items()} == {
        filled[0]["example_id"]: "approved",
        filled[1]["example_id"]: "rejected",
        filled[3]["example_id"]: "needs_review",
    }
    assert got[filled[3]["example_id"]]["reviewer_id"] == "bob@example.com"
    assert got[filled[0]["example_id"]]["reviewer_id"] == "alice@example.com"
    assert got[filled[1]["example_id"]]["notes"] == "wrong answer"
    assert all(
        v["reviewed_at"] == NOW and v["review_sheet"] == sheet.csv_path.name for v in got.values()
    )

    reviews = tmp_path / "reviews"
    write_review_records(records, reviews)
    fill(sheet.csv_path, {0: "rejected"})
    later = import_review_sheet(
        sheet.csv_path, "carol@example.com", current_hashes(rows), now=NOW.replace(hour=13)
    )
    write_review_records(later, reviews)
    table = load_review_table(reviews)
    assert table["example_id"].is_unique and len(table) == 3
    latest = table.set_index("example_id").loc[filled[0]["example_id"]]
    assert (latest["human_review_status"], latest["reviewer_id"]) == (
        "rejected",
        "carol@example.com",
    )
    assert str(table["reviewed_at"].dtype) == "datetime64[us, UTC]"


def test_a_jsonl_sheet_imports_the_same_way(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path, sample_n=2)
    lines = [orjson.loads(x) for x in sheet.jsonl_path.read_bytes().splitlines()]
    lines[1]["verdict"] = "approved"
    sheet.jsonl_path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    records = import_review_sheet(sheet.jsonl_path, "alice", current_hashes(rows), now=NOW)
    assert records["example_id"].tolist() == [lines[1]["example_id"]]


def test_a_stale_sheet_is_refused_naming_each_row(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path, sample_n=3)
    filled = fill(sheet.csv_path, {0: "approved", 1: "approved", 2: "rejected"})
    current = rows.copy()
    changed = current["example_id"] == filled[0]["example_id"]
    current.loc[changed, "response"] = "## Code\nre-sanitized differently\n"
    current = current[current["example_id"] != filled[2]["example_id"]]  # erased since export
    with pytest.raises(ReviewSheetError) as refused:
        import_review_sheet(sheet.csv_path, "alice", current_hashes(current), now=NOW)
    message = str(refused.value)
    assert "nothing imported (2 problem(s))" in message and "export a new sheet" in message
    assert f"row 1 (line 2): {filled[0]['example_id']}: response_sha256" in message
    assert f"row 3 (line 18): {filled[2]['example_id']} is not among the current rows" in message
    assert filled[1]["example_id"] not in message


def test_bad_verdicts_and_repeats_are_refused_naming_the_line(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path, sample_n=3)
    lines = [orjson.loads(x) for x in sheet.jsonl_path.read_bytes().splitlines()]
    lines[0]["verdict"] = "LGTM"
    lines[1]["verdict"] = "approved"
    lines.append({**lines[1], "verdict": "rejected"})
    sheet.jsonl_path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    with pytest.raises(ReviewSheetError) as refused:
        import_review_sheet(sheet.jsonl_path, "alice", current_hashes(rows), now=NOW)
    assert refused.value.problems == [
        "line 1: verdict 'LGTM' is not one of approved, rejected, needs_review",
        f"line 4: {lines[1]['example_id']} already has a verdict at line 2",
    ]


def test_a_sheet_without_verdicts_or_columns_is_refused(tmp_path: Path) -> None:
    rows = candidates()
    sheet = export_review_sheet(rows, tmp_path, sample_n=2)
    with pytest.raises(ReviewSheetError, match="no verdicts"):
        import_review_sheet(sheet.csv_path, "alice", current_hashes(rows))
    sheet.csv_path.write_text("example_id,verdict\nex_1,approved\n", encoding="utf-8")
    with pytest.raises(ReviewSheetError, match="missing column"):
        import_review_sheet(sheet.csv_path, "alice", current_hashes(rows))


CASES = [
    ("approved", "eval", None),
    ("needs_review", "eval", ReviewBlock.REVIEW_REQUIRED),
    ("unreviewed", "eval", ReviewBlock.REVIEW_REQUIRED),
    (None, "eval", ReviewBlock.REVIEW_REQUIRED),
    ("rejected", "train", ReviewBlock.HUMAN_REJECTED),
    ("unreviewed", "train", None),
    ("needs_review", "train", None),
]


@pytest.mark.parametrize(("status", "use", "block"), CASES)
@pytest.mark.parametrize("required_for", [["eval"], []])
def test_review_rule_is_the_same_in_python_and_sql(
    status: str | None, use: str, block: ReviewBlock | None, required_for: list[str]
) -> None:
    if not required_for and block is ReviewBlock.REVIEW_REQUIRED:
        block = None
    assert review_block(status, use, required_for) == block
    with duckdb.connect() as con:
        (got,) = con.execute(
            f"SELECT {REVIEW_BLOCK_SQL} "
            "FROM (SELECT $status::VARCHAR AS human_review_status) AS hr",
            {"status": status, "use": use, "review_required_for": required_for},
        ).fetchone() or (None,)
    assert got == (block.value if block else None)


def test_a_verdict_joins_only_the_text_it_was_given_on() -> None:
    joined = f"""
        SELECT s.example_id, {REVIEW_COLUMNS_SQL}
        FROM (SELECT * FROM (VALUES ('ex_a', 'p', 'shown'), ('ex_b', 'p', 'changed'),
                                    ('ex_c', 'p', 'never reviewed'))
              AS t(example_id, prompt_hash, response)) AS s
        {review_join_sql("(SELECT * FROM reviews)")}
        ORDER BY 1
    """
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE reviews AS SELECT * FROM (VALUES "
            "('ex_a', 'approved', 'alice', 'p', sha256('shown')), "
            "('ex_b', 'approved', 'alice', 'p', sha256('before the change'))) "
            "AS t(example_id, human_review_status, reviewer_id, prompt_hash, response_sha256)"
        )
        con.execute("ALTER TABLE reviews ADD COLUMN reviewed_at TIMESTAMPTZ")
        rows = con.execute(joined).fetchall()
        empty = con.execute(
            f"SELECT count(*) FROM (SELECT 'ex_a' AS example_id, 'p' AS prompt_hash, "
            f"'x' AS response) AS s {review_join_sql(NO_REVIEWS_SQL)} WHERE hr.example_id IS NULL"
        ).fetchone()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("ex_a", "approved", "alice"),
        ("ex_b", "unreviewed", None),
        ("ex_c", "unreviewed", None),
    ]
    assert empty == (1,)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from born_assets_tests.conftest import copy_sample_data

    data_dir = copy_sample_data(tmp_path_factory.mktemp("review") / "data")
    materialize_all(data_dir)
    return data_dir


def test_review_round_trip_on_the_materialized_warehouse(built: Path, tmp_path: Path) -> None:
    with duckdb.connect() as con:
        sample = review_candidates(
            con, DataDir.at(built), sample_n=5, lane="mbpp-plus-reference", seed=3
        )
        assert len(sample) == 5 and set(sample["origin_id"]) == {"mbpp-plus-reference"}
        assert sample["source_id"].notna().all() and sample["curation_score"].notna().all()
        sheet = export_review_sheet(
            sample, tmp_path, sample_n=5, lane="mbpp-plus-reference", seed=3
        )
        everything = review_candidates(con, DataDir.at(built), sample_n=10_000)
        contaminated = con.execute(
            "SELECT count(*) FROM read_parquet($p)",
            {"p": (built / "warehouse" / "contamination" / "exits.parquet").as_posix()},
        ).fetchone()
        assert contaminated and contaminated[0] > 0  # all of HumanEval is an eval set
        assert review_candidates(
            con, DataDir.at(built), sample_n=5, lane="humaneval-reference"
        ).empty
        again = sample_rows(everything, 5, lane="mbpp-plus-reference", seed=3)
        assert sorted(again["example_id"]) == list(sheet.example_ids)  # SQL and pandas agree
        fill(sheet.csv_path, {0: "approved", 4: "rejected"})
        current = row_hashes(con, DataDir.at(built), list(sheet.example_ids))
    assert len(current) == 5
    records = import_review_sheet(sheet.csv_path, "alice@example.com", current, now=NOW)
    assert sorted(records["human_review_status"]) == ["approved", "rejected"]
    release = tmp_path / "releases" / "v9"
    (release / "data").mkdir(parents=True)
    everything.drop(columns="response_sha256").to_parquet(release / "data" / "train-0.parquet")
    with duckdb.connect() as con:
        from_release = review_candidates(
            con,
            DataDir.at(built),
            sample_n=5,
            lane="mbpp-plus-reference",
            seed=3,
            release_dir=release,
        )
        assert sorted(from_release["example_id"]) == list(sheet.example_ids)
        assert (
            row_hashes(con, DataDir.at(built), list(sheet.example_ids), release_dir=release)
            == current
        )
    stale = {k: (p, "0" * 64) for k, (p, _) in current.items()}
    with pytest.raises(ReviewSheetError, match="response_sha256"):
        import_review_sheet(sheet.csv_path, "alice@example.com", stale, now=NOW)


def test_the_sheet_shows_and_hashes_the_text_that_ships(built: Path, tmp_path: Path) -> None:
    with duckdb.connect() as con:
        (first,) = review_candidates(con, DataDir.at(built), sample_n=1, seed=9)["example_id"]
        redacted = tmp_path / "redacted.parquet"
        pd.DataFrame(
            {"example_id": [first], "prompt": [None], "response": ["## Code\n<EMAIL>\n"]}
        ).to_parquet(redacted)
        shown = review_candidates(
            con, DataDir.at(built), sample_n=1, seed=9, redacted=redacted
        ).iloc[0]
        hashes = row_hashes(con, DataDir.at(built), [first], redacted=redacted)
    assert shown["response"] == "## Code\n<EMAIL>\n" and shown["prompt"]
    assert hashes[first] == (shown["prompt_hash"], response_sha256("## Code\n<EMAIL>\n"))


def born_review(data_dir: Path, *argv: str) -> int:
    args = build_parser().parse_args(["review", *argv])
    args.data = DataDir.at(data_dir)
    return int(args.run(args))


def test_born_review_export_then_import_stores_the_verdicts(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    assert born_review(data_dir, "export", "--sample-n", "3", "--lane", "ds1000-reference") == 0
    sheet = data_dir / "reviews" / "sheets" / "review-ds1000-reference-s0-n3.csv"
    assert sheet.name in capsys.readouterr().out
    filled = fill(sheet, {0: "approved", 2: "needs_review"})
    assert born_review(data_dir, "import", sheet.name, "--reviewer", "alice@example.com") == 0
    assert "approved 1, needs_review 1" in capsys.readouterr().out
    table = load_review_table(data_dir / "reviews" / "records")
    assert dict(zip(table["example_id"], table["human_review_status"], strict=True)) == {
        filled[0]["example_id"]: "approved",
        filled[2]["example_id"]: "needs_review",
    }
    with pytest.raises(FileNotFoundError, match=r"\.csv: --release v404: no published release"):
        born_review(data_dir, "import", sheet.name, "--reviewer", "a", "--release", "v404")
