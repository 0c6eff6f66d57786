"""A release's shards: their row groups encoded on threads, the bytes of one writer per shard."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from born_assets.release.build import _split_into_shards
from born_assets.store.parquet import WRITER_OPTIONS

SCHEMA = pa.schema(
    [
        ("example_id", pa.string()),
        (
            "messages",
            pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
        ),
        ("curation_score", pa.float64()),
    ]
)


def _rows(count: int) -> pa.Table:
    return pa.table(
        {
            "example_id": [f"ex_{i:04d}" for i in range(count)],
            "messages": [
                [{"role": "user", "content": f"task {i} " * (i % 5 + 1)}] for i in range(count)
            ],
            "curation_score": [i / count for i in range(count)],
        },
        schema=SCHEMA,
    )


def _one_writer_per_shard(
    batches: list[pa.RecordBatch], paths: list[Path], shard_rows: int, group_rows: int
) -> None:
    """Each batch's part of a shard given to that shard's pyarrow writer, as a table."""
    index, written = 0, 0
    writer = pq.ParquetWriter(paths[0], SCHEMA, **WRITER_OPTIONS)
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            if written == shard_rows:
                writer.close()
                index, written = index + 1, 0
                writer = pq.ParquetWriter(paths[index], SCHEMA, **WRITER_OPTIONS)
            take = min(shard_rows - written, batch.num_rows - offset)
            part = pa.Table.from_batches([batch.slice(offset, take)])
            writer.write_table(part, row_group_size=group_rows)
            offset, written = offset + take, written + take
    writer.close()


def _digests(paths: list[Path]) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.exists()]


def test_shards_are_the_bytes_of_one_writer_per_shard(tmp_path: Path) -> None:
    batches = _rows(50).to_batches(max_chunksize=7)  # shards and groups cut inside batches
    expected = [tmp_path / f"expected-{i}.parquet" for i in range(4)]
    written = [tmp_path / f"written-{i}.parquet" for i in range(4)]
    _one_writer_per_shard(batches, expected, shard_rows=20, group_rows=3)
    _split_into_shards(batches, SCHEMA, written, shard_rows=20, group_rows=3)
    assert len(_digests(written)) == 3  # 20 + 20 + 10 rows; the fourth shard is not opened
    assert _digests(written) == _digests(expected)
    assert [pq.read_metadata(p).num_rows for p in written[:3]] == [20, 20, 10]
    assert pq.read_table(written[2]).equals(_rows(50).slice(40))


def test_a_shard_of_no_rows_is_the_bytes_of_a_writer_given_none(tmp_path: Path) -> None:
    expected, written = tmp_path / "expected.parquet", tmp_path / "written.parquet"
    _one_writer_per_shard([], [expected], shard_rows=1, group_rows=1)
    _split_into_shards([], SCHEMA, [written], shard_rows=1, group_rows=1)
    assert written.read_bytes() == expected.read_bytes()
