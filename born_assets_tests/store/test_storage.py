"""A crash while writing must never leave half an asset: the old one stays until the new is done."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

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
