"""The contamination stage over Parquet: a rebuild that knows most rows gives a fresh build's bytes.

The real sample lanes are checked against the real eval sets of `data/`: the humaneval lane
copies its eval set, so every eval text has nearest rows. A first build checks all but some rows;
the second checks them all, remembering the first build's checks, and must write exactly what a
build from scratch writes, while reading only the new rows' texts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from born_assets import layout
from born_assets.governance.contamination import CHECK_MEMO_COLUMNS
from born_assets.governance.contamination_stage import _nearest_seed, check_candidates
from born_assets.layout import DataDir
from born_assets.specs.evals import EvalSet, load_eval_sets
from born_assets.specs.policy import Policy
from born_assets.store.memo import RowMemo
from born_assets_tests.conftest import REPO, SAMPLE_DATA
from born_assets_tests.governance.test_contamination import sample_rows

OUTPUTS = (layout.ROWS, layout.MATCHES, layout.CHECKS, layout.NEAREST, layout.REPORT, layout.EXITS)
NEW_LANE = "mbpp-plus-reference"
SANITIZED_TEXTS = pa.schema(  # as `sanitized` writes them: never null
    [pa.field(name, pa.string(), nullable=False) for name in ("example_id", "prompt", "response")]
)


@pytest.fixture(scope="module")
def eval_sets() -> list[EvalSet]:
    loaded, errors = load_eval_sets(DataDir.at(REPO / "data"))
    assert errors == []
    return loaded


def _inputs(folder: Path, rows: pa.Table) -> dict[str, Path]:
    """The tables `check_candidates` reads, in small row groups, as the warehouse holds them."""
    folder.mkdir(parents=True)
    count = rows.num_rows
    tables = {
        "deduplicated": rows.select(["example_id", "origin_id", "source_benchmark"])
        .append_column("origin_kind", pa.array(["lane"] * count))
        .append_column("source_file", rows.column("origin_id"))
        .append_column("source_line", pa.array(range(1, count + 1), pa.int64())),
        "sources": rows.select(["example_id", "source_id", "generator_model"]),
        "sanitized": rows.select(["example_id", "prompt", "response"]).cast(SANITIZED_TEXTS),
    }
    paths = {}
    for name, table in tables.items():
        paths[name] = folder / f"{name}.parquet"
        pq.write_table(table, paths[name], row_group_size=40)
    return paths


def _check(
    inputs: dict[str, Path],
    out: Path,
    eval_sets: list[EvalSet],
    memo: RowMemo | None,
    workers: int = 1,
) -> int:
    out.mkdir(parents=True)
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    with duckdb.connect() as con:
        _, _, remembered = check_candidates(
            con,
            deduplicated=inputs["deduplicated"],
            sanitized=inputs["sanitized"],
            sources=[inputs["sources"]],
            eval_sets=eval_sets,
            policy=policy.contamination,
            similarity=policy.similarity.params,
            out_dir=out,
            batch_rows=64,
            remembered=memo,
            workers=workers,
        )
    return remembered


def _digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in OUTPUTS}


def _memo(folder: Path) -> RowMemo:
    return RowMemo(folder / layout.CHECKS, CHECK_MEMO_COLUMNS)


def _seed_usable(inputs: dict[str, Path], memo: RowMemo) -> bool:
    params = {
        "deduplicated": inputs["deduplicated"].as_posix(),
        "sources": [inputs["sources"].as_posix()],
    }
    with duckdb.connect() as con:
        return _nearest_seed(con, params, memo) is not None


def test_new_rows_added_to_known_ones_give_a_fresh_builds_bytes(
    tmp_path: Path, eval_sets: list[EvalSet]
) -> None:
    rows = sample_rows()
    old = rows.filter(pc.not_equal(rows.column("origin_id"), NEW_LANE))
    first = _inputs(tmp_path / "first", old)
    _check(first, tmp_path / "first-out", eval_sets, None)
    assert pq.read_table(tmp_path / "first-out" / layout.NEAREST).num_rows > 0

    both = _inputs(tmp_path / "both", rows)
    memo = _memo(tmp_path / "first-out")
    assert _seed_usable(both, memo)
    remembered = _check(both, tmp_path / "again", eval_sets, memo)
    _check(both, tmp_path / "fresh", eval_sets, None)

    assert remembered == old.num_rows < rows.num_rows
    assert _digests(tmp_path / "again") == _digests(tmp_path / "fresh")


def test_a_nearest_row_that_left_makes_every_row_measured_again(
    tmp_path: Path, eval_sets: list[EvalSet]
) -> None:
    rows = sample_rows()
    first = _inputs(tmp_path / "first", rows)
    _check(first, tmp_path / "first-out", eval_sets, None)
    nearest = pq.read_table(tmp_path / "first-out" / layout.NEAREST)
    gone = nearest.column("example_id")[0]
    fewer = rows.filter(pc.not_equal(rows.column("example_id"), gone))
    after = _inputs(tmp_path / "after", fewer)
    memo = _memo(tmp_path / "first-out")
    # Rows below the departed one were never listed; only measuring them again can rank them.
    assert not _seed_usable(after, memo)
    remembered = _check(after, tmp_path / "again", eval_sets, memo)
    _check(after, tmp_path / "fresh", eval_sets, None)

    assert remembered == fewer.num_rows
    assert _digests(tmp_path / "again") == _digests(tmp_path / "fresh")


def test_two_workers_write_what_one_writes(tmp_path: Path, eval_sets: list[EvalSet]) -> None:
    """Batches are measured and checked in worker processes; the tables must not show it.

    Both a build from scratch and one that remembers most rows (and reads only the new rows'
    texts) are compared, byte for byte, with the same build in one process.
    """
    rows = sample_rows()
    old = rows.filter(pc.not_equal(rows.column("origin_id"), NEW_LANE))
    first = _inputs(tmp_path / "first", old)
    _check(first, tmp_path / "first-one", eval_sets, None)
    _check(first, tmp_path / "first-two", eval_sets, None, workers=2)
    assert _digests(tmp_path / "first-two") == _digests(tmp_path / "first-one")

    both = _inputs(tmp_path / "both", rows)
    memo = _memo(tmp_path / "first-one")
    assert _seed_usable(both, memo)
    remembered = _check(both, tmp_path / "again-two", eval_sets, memo, workers=2)
    _check(both, tmp_path / "fresh", eval_sets, None)
    assert remembered == old.num_rows
    assert _digests(tmp_path / "again-two") == _digests(tmp_path / "fresh")
