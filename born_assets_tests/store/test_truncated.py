"""A truncated Parquet file in the warehouse is rebuilt, never read as fewer rows.

A disk that filled up or a copy cut short leaves a table without its footer. A stage that
remembers rows from its last output must then compute them again, and an ingest must read its
files again, rather than trust what is left.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from born_assets.ingest.files import IngestSummary
from born_assets.ingest.reuse import IngestInputs, IngestState
from born_assets.store.memo import RowMemo, is_whole_parquet, write_versions
from born_assets.store.unchanged import record

VERSIONS = {"code": "c1"}


def memo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "stage"
    folder.mkdir()
    table = pa.table({"example_id": [f"ex_{i}" for i in range(1000)], "x": list(range(1000))})
    pq.write_table(table, folder / "rows.parquet", row_group_size=100)
    write_versions(folder, VERSIONS)
    record(folder, [], VERSIONS)  # the file hashes a stage records as it publishes
    return folder


def test_a_whole_memo_is_used(tmp_path: Path) -> None:
    folder = memo_folder(tmp_path)
    assert is_whole_parquet(folder / "rows.parquet")
    assert len(RowMemo.open(folder, "rows.parquet", VERSIONS, ["x"])) == 1000


def test_a_truncated_memo_is_no_memo(tmp_path: Path) -> None:
    folder = memo_folder(tmp_path)
    path = folder / "rows.parquet"
    for size in (path.stat().st_size - 1, path.stat().st_size // 2, 3, 0):
        os.truncate(path, size)
        assert not is_whole_parquet(path)
        assert len(RowMemo.open(folder, "rows.parquet", VERSIONS, ["x"])) == 0


def test_a_memo_whose_rows_changed_since_it_was_written_is_no_memo(tmp_path: Path) -> None:
    """A row edited in place would be handed back under its example id: never trusted."""
    folder = memo_folder(tmp_path)
    table = pq.read_table(folder / "rows.parquet")
    edited = table.set_column(1, "x", pa.array([-1, *range(1, 1000)]))
    pq.write_table(edited, folder / "rows.parquet", row_group_size=100)
    assert is_whole_parquet(folder / "rows.parquet")
    assert len(RowMemo.open(folder, "rows.parquet", VERSIONS, ["x"])) == 0


def test_a_truncated_ingest_table_makes_the_ingest_run_again(tmp_path: Path) -> None:
    folder = memo_folder(tmp_path)
    inputs = IngestInputs((("lanes/a/part-000.jsonl", "0" * 64),), "base")
    IngestState(inputs, IngestSummary(files=1, lines_read=1000, accepted=1000)).write(folder)
    assert IngestState.read(folder) is not None
    os.truncate(folder / "rows.parquet", 100)
    assert IngestState.read(folder) is None
