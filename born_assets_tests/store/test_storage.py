"""A crash while writing must never leave half an asset: the old one stays until the new is done."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.ingest import SourceFileRecord
from born_assets.store.atomic import atomic_dir
from born_assets.store.parquet import ParquetSink


def test_a_completed_block_replaces_the_asset(tmp_path: Path) -> None:
    target = tmp_path / "warehouse" / "asset"
    with atomic_dir(target) as staging:
        (staging / "t.txt").write_text("one")
    with atomic_dir(target) as staging:
        (staging / "t.txt").write_text("two")
    assert (target / "t.txt").read_text() == "two"
    assert len(list(target.parent.iterdir())) == 2  # the link and the live version only


def test_a_failed_block_leaves_the_old_asset_untouched(tmp_path: Path) -> None:
    target = tmp_path / "asset"
    with atomic_dir(target) as staging:
        (staging / "t.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as staging:
        (staging / "t.txt").write_text("half")
        raise RuntimeError("crash")
    assert (target / "t.txt").read_text() == "old"
    assert len(list(tmp_path.iterdir())) == 2


def test_the_sink_writes_in_row_groups_with_the_model_schema(tmp_path: Path) -> None:
    path = tmp_path / "files.parquet"
    row = {
        "origin_kind": "lane",
        "origin_id": "a",
        "source_file": "x",
        "lines_read": 1,
        "size_bytes": 2,
        "file_sha256": "0" * 64,
    }
    with ParquetSink(path, SourceFileRecord, batch_rows=2) as sink:
        for i in range(5):
            sink.append({**row, "source_file": f"f{i}"})
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_rows == 5
    assert parquet.metadata.num_row_groups == 3
    field = parquet.schema_arrow.field("lines_read")
    assert field.metadata == {b"description": b"Lines read from the file."}
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"


def test_rows_extended_as_arrow_are_written_as_appended_ones(tmp_path: Path) -> None:
    """Arrow rows in any batches end in the row groups, and bytes, of rows appended one by one."""
    rows = [
        {
            "origin_kind": "lane",
            "origin_id": "a",
            "source_file": f"lanes/a/part-{i:03d}.jsonl",
            "lines_read": i,
            "size_bytes": 10 * i,
            "file_sha256": f"{i:064x}",
        }
        for i in range(11)
    ]
    appended, mixed = tmp_path / "appended.parquet", tmp_path / "mixed.parquet"
    with ParquetSink(appended, SourceFileRecord, batch_rows=3) as sink:
        for row in rows:
            sink.append(row)
    table = pa.Table.from_pylist(rows[:8], schema=arrow_schema(SourceFileRecord))
    with ParquetSink(mixed, SourceFileRecord, batch_rows=3) as sink:
        sink.append(rows[0])
        sink.extend(table.slice(1, 1))  # held with the appended row: not yet a group
        sink.extend(table.slice(2, 5).to_batches()[0])  # a group of three, two held
        sink.extend(table.slice(7, 1))
        for row in rows[8:]:
            sink.append(row)
    assert pq.ParquetFile(mixed).metadata.num_row_groups == 4
    assert mixed.read_bytes() == appended.read_bytes()
