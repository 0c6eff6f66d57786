"""A shard set's shards are keyed on what their bytes depend on, and copied only while intact."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.release import source_shards
from born_assets.release.source_shards import ShardCache, shard_sets


def _id(i: int) -> str:
    return "ex_" + hashlib.sha256(str(i).encode()).hexdigest()[:24]


def _tables(
    folder: Path, long_text: int = 10, files: dict[str, list[str]] | None = None
) -> tuple[Path, Path, Path]:
    """Narrow rows of two sources (sorted by id, so mixed), their sanitized texts, none redacted.

    The sanitized table holds each source in row groups of its own, `b`'s texts `long_text`
    times as long as `a`'s. `files` names each source's row's input file (one file each if not).
    """
    ids = {"a": [_id(i) for i in range(6)], "b": [_id(i) for i in range(6, 10)]}
    files = files or {source: [f"{source}.jsonl"] * len(ids[source]) for source in ids}
    narrow = folder / "narrow.parquet"
    rows = sorted(
        (
            ("lane", source, i, file)
            for source in ids
            for i, file in zip(ids[source], files[source], strict=True)
        ),
        key=lambda r: r[2],
    )
    assert [r[1] for r in rows] != sorted(r[1] for r in rows)  # the sources' rows interleave
    pq.write_table(
        pa.table(
            {
                "origin_kind": [r[0] for r in rows],
                "origin_id": [r[1] for r in rows],
                "example_id": [r[2] for r in rows],
                "source_file": [r[3] for r in rows],
                "curation_score": [0.5] * len(rows),
            }
        ),
        narrow,
    )
    sanitized = folder / "sanitized.parquet"
    with pq.ParquetWriter(
        sanitized, pa.schema([("example_id", pa.string()), ("response", pa.string())])
    ) as writer:
        for source, size in (("a", 100), ("b", 100 * long_text)):
            table = pa.table(
                {"example_id": ids[source], "response": ["x" * size] * len(ids[source])}
            )
            writer.write_table(table)  # one row group per source
    redacted = folder / "redacted.parquet"
    pq.write_table(
        pa.table({"example_id": pa.array([], pa.string()), "response": pa.array([], pa.string())}),
        redacted,
    )
    return narrow, sanitized, redacted


def test_each_source_is_keyed_on_its_own_rows_and_row_groups(tmp_path: Path) -> None:
    narrow, sanitized, redacted = _tables(tmp_path)
    with duckdb.connect() as con:
        a, b = shard_sets(con, narrow, sanitized, redacted, ["response"])
    assert (a.origin_id, a.rows, b.origin_id, b.rows) == ("a", 6, "b", 4)
    assert len(a.text_groups) == len(b.text_groups) == 1 and a.text_groups != b.text_groups
    assert b.text_bytes / b.rows > 5 * a.text_bytes / a.rows  # b's texts are ten times as long
    # Its shards' row groups follow its own texts only, at most the cap.
    assert a.group_rows(10_000, 16 * 1024 * 1024) == 10_000
    per_row = b.text_bytes / b.rows
    assert b.group_rows(10_000, 4_000) == int(4_000 // per_row)

    # Another source's texts changing leaves a source's key as it was; its own changing does not.
    other = tmp_path / "other"
    other.mkdir()
    narrow2, sanitized2, redacted2 = _tables(other, long_text=11)
    with duckdb.connect() as con:
        a2, b2 = shard_sets(con, narrow2, sanitized2, redacted2, ["response"])
    assert a2.key(100, 10) == a.key(100, 10)
    assert b2.key(100, 10) != b.key(100, 10)
    assert a.key(100, 10) != a.key(50, 10) != a.key(100, 5)


def test_a_source_s_files_fill_sets_in_path_order_and_each_set_is_keyed_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run of files closes once it holds `SET_ROWS` rows; a file after it starts a new set."""
    monkeypatch.setattr(source_shards, "SET_ROWS", 3)
    files = {
        "a": ["2.jsonl", "1.jsonl", "1.jsonl", "3.jsonl", "1.jsonl", "2.jsonl"],
        "b": ["b"] * 4,
    }
    with duckdb.connect() as con:
        sets = shard_sets(con, *_tables(tmp_path, files=files), ["response"])
    assert [(s.origin_id, [f for f, _, _ in s.files], s.rows) for s in sets] == [
        ("a", ["1.jsonl"], 3),  # closed: it holds 3 rows
        ("a", ["2.jsonl", "3.jsonl"], 3),  # 2 rows, still open, then 3.jsonl's row
        ("b", ["b"], 4),  # another source always starts a set
    ]
    # Another row in the last file of the source: the set before it keeps its key.
    other = tmp_path / "other"
    other.mkdir()
    files["a"][0] = "3.jsonl"  # 2.jsonl loses a row to 3.jsonl
    with duckdb.connect() as con:
        again = shard_sets(con, *_tables(other, files=files), ["response"])
    assert [[f for f, _, _ in s.files] for s in again] == [
        ["1.jsonl"],
        ["2.jsonl", "3.jsonl"],
        ["b"],
    ]
    assert again[0].key(100, 10) == sets[0].key(100, 10)
    assert again[1].key(100, 10) != sets[1].key(100, 10)
    assert again[2].key(100, 10) == sets[2].key(100, 10)


def _entry(tmp_path: Path) -> tuple[ShardCache, list[Path], list[Path]]:
    """A cache holding one key's two shards, published under `releases/v1/data/`."""
    cache = ShardCache(tmp_path / "cache" / "shards", tmp_path)
    published = [tmp_path / "releases" / "v1" / "data" / f"train-{i}.parquet" for i in range(2)]
    published[0].parent.mkdir(parents=True)
    for i, path in enumerate(published):
        pq.write_table(pa.table({"n": [i]}), path)
    cache.remember("k" * 64, published, published)
    targets = [tmp_path / "staging" / f"train-{i}-of-2.parquet" for i in range(2)]
    targets[0].parent.mkdir()
    return cache, published, targets


def test_a_shard_is_copied_only_with_the_bytes_it_was_written_with(tmp_path: Path) -> None:
    cache, published, targets = _entry(tmp_path)
    assert not cache.take("0" * 64, targets)  # an unknown key
    assert not cache.take("k" * 64, targets[:1])  # another count of shards
    assert cache.take("k" * 64, targets)
    assert [t.read_bytes() for t in targets] == [p.read_bytes() for p in published]

    for target in targets:
        target.unlink()
    pq.write_table(pa.table({"n": [7]}), published[1])  # rewritten after it was published
    assert not cache.take("k" * 64, targets)
    assert not any(t.exists() for t in targets)  # nothing half-copied is left

    published[1].unlink()  # deleted
    assert not cache.take("k" * 64, targets)
    assert not any(t.exists() for t in targets)

    os.mkfifo(published[1])  # an entry never makes a cut wait on a FIFO
    assert not cache.take("k" * 64, targets)
    published[1].unlink()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.parquet"
    pq.write_table(pa.table({"n": [1]}), outside)  # the bytes recorded, outside the data dir
    published[1].symlink_to(outside)
    assert not cache.take("k" * 64, targets)
    assert not any(t.exists() for t in targets)
