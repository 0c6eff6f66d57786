"""The benchmark's synthetic corpus must be reproducible and must make the graph do real work.

`make bench` compares runs over time and across sizes, so the generator must give the same bytes
for the same seed; its malformed lines must cover every quarantine kind in the requested share,
its prompts must repeat across lanes, and the real graph must take a generated corpus end to end
with every line's fate matching what the generator planned. No timing is asserted here: the
figures come from `make bench` only.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest

from bench import similar_queries
from bench.gate_blocks import collect
from bench.generate import PLAN_FILE, generate
from bench.layout import IMPORT_ID, LANES, CorpusSpec
from bench.references import parse_floor
from bench.rows import IMPORT_KINDS, LANE_KINDS, Corpus
from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import QuarantineReason
from born_assets.text.closure import python_parses

SMALL = CorpusSpec(rows=500, rows_per_file=100)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A generated 500-row corpus and its plan."""
    data_dir = tmp_path_factory.mktemp("bench") / "data"
    return data_dir, generate(SMALL, data_dir, workers=1)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    data_dir, _ = corpus
    generate(SMALL, tmp_path / "again", workers=2)
    assert tree_bytes(tmp_path / "again") == tree_bytes(data_dir)
    other = CorpusSpec(rows=SMALL.rows, rows_per_file=SMALL.rows_per_file, seed=SMALL.seed + 1)
    generate(other, tmp_path / "other", workers=1)
    lanes = "lanes/bench-mbpp-gpt-4o/part-000.jsonl"
    assert (tmp_path / "other" / lanes).read_bytes() != (data_dir / lanes).read_bytes()


def test_every_quarantine_kind_gets_the_requested_share() -> None:
    spec = CorpusSpec(rows=60_000, bad_share=0.001)
    bad = Corpus(spec).bad
    kinds = Counter(bad.values())
    assert set(kinds) == {*LANE_KINDS, *IMPORT_KINDS}
    assert set(kinds.values()) == {4}  # 0.1% of 60,000 rows over 15 kinds
    assert len(bad) / spec.rows == pytest.approx(0.001)
    not_generated = set(QuarantineReason) - {*LANE_KINDS, *IMPORT_KINDS}
    # erased: a governance fate; unknown_seed_example: decided by a release across rows;
    # unsupported_file and unreadable_file: a whole file's verdict, not a line's
    assert not_generated <= {
        QuarantineReason.ERASED,
        QuarantineReason.UNKNOWN_SEED_EXAMPLE,
        QuarantineReason.UNSUPPORTED_FILE,
        QuarantineReason.UNREADABLE_FILE,
    }


def test_the_plan_counts_one_malformed_line_of_each_kind(
    corpus: tuple[Path, dict[str, Any]],
) -> None:
    data_dir, plan = corpus
    assert plan["quarantined_by_reason"] == {k.value: 1 for k in (*LANE_KINDS, *IMPORT_KINDS)}
    lines = [
        line
        for path in sorted((data_dir / "lanes").rglob("*.jsonl"))
        for line in path.read_bytes().split(b"\n")[:-1]
    ]
    assert sum(1 for line in lines if not line) == 1
    assert sum(1 for line in lines if not _is_utf8(line)) == 1
    assert sum(1 for line in lines if line.startswith(b"[")) == 1
    assert len(lines) == sum(n for k, n in SMALL.lane_rows().items() if k != IMPORT_ID)
    assert json.loads((data_dir / PLAN_FILE).read_text())["lines"] == SMALL.rows


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_prompts_repeat_across_lanes(corpus: tuple[Path, dict[str, Any]]) -> None:
    data_dir, plan = corpus
    lanes_of: defaultdict[str, set[str]] = defaultdict(set)
    for lane in LANES:
        for path in (data_dir / "lanes" / lane.lane_id).glob("*.jsonl"):
            for line in path.read_bytes().splitlines():
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("prompt"), str):
                    lanes_of[row["prompt"]].add(lane.lane_id)
    shared = [lanes for lanes in lanes_of.values() if len(lanes) > 1]
    assert shared
    assert 0.05 < plan["fates"]["duplicate"] / SMALL.rows < 0.15


def test_the_graph_takes_a_generated_corpus_and_every_fate_reconciles(
    corpus: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir, plan = corpus
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # an ephemeral instance
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    release = json.loads((data_dir / "releases" / "v1" / "release.json").read_text())
    counts = {k: v for k, v in release["counts_by_fate"].items() if v}
    assert counts == {k: v for k, v in plan["fates"].items() if v}
    assert sum(counts.values()) == SMALL.rows
    with duckdb.connect() as con:
        reasons = con.execute(
            "SELECT reason, count(*) FROM read_parquet(?) WHERE fate = 'quarantined' GROUP BY 1",
            [str(data_dir / "releases" / "v1" / "fates.parquet")],
        ).fetchall()
    assert dict(reasons) == plan["quarantined_by_reason"]


def test_the_parse_floor_parses_each_block_the_gate_checked_once(
    corpus: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor the graph is measured against is the gate's own work, deduplicated, no more."""
    data_dir, _ = corpus
    if not DataDir.at(data_dir).release("v1").is_published():
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        assert materialize_release(DataDir.at(data_dir), "v1").success
    blocks = tmp_path / "blocks.parquet"
    counts = collect(data_dir, blocks)
    gated = data_dir / "warehouse" / "gated" / "rows.parquet"
    with duckdb.connect() as con:
        ((checked, rows),) = con.execute(
            "SELECT sum(python_blocks_checked), count(python_blocks_checked) FROM read_parquet(?)",
            [str(gated)],
        ).fetchall()
    assert counts["blocks"] == checked > 0
    assert counts["rows"] == rows
    codes = pq.read_table(blocks).column("code").to_pylist()
    assert len(codes) == len(set(codes)) == counts["distinct_blocks"] <= checked
    parsed = parse_floor(blocks, tmp_path)
    assert parsed["blocks"] == len(codes)
    assert parsed["syntax_errors"] == sum(not python_parses(code) for code in codes)


def test_the_similar_queries_measure_answers_from_the_release_s_index(
    corpus: tuple[Path, dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The bench's `born similar` timing runs on a built release and finds the reworded rows."""
    data_dir, _ = corpus
    if not DataDir.at(data_dir).release("v1").is_published():
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        assert materialize_release(DataDir.at(data_dir), "v1").success
    similar_queries.main([str(data_dir), "v1", "--queries", "5"])
    out = json.loads(capsys.readouterr().out)
    assert out["queries"] == 5 and out["reworded_row_first"] >= 4
    assert 0 < out["query_median_s"] <= out["query_max_s"]
