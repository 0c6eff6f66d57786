"""A release's shards, set by set: a set whose rows did not change keeps its files.

The released rows are ordered by source (`origin_kind`, `origin_id`), then by shard set, then
by `example_id`. A shard set is a run of one source's input files, in the order of their paths:
a run closes once it holds `SET_ROWS` released rows, and the next file starts a new one. Each
set fills shards of its own, so a shard's bytes are a function of its set's released rows alone.
When a version is cut after a file was added to one lane, every other source's shards, and the
changed lane's closed sets before the file, are the very files of the version before: copied,
not joined to their texts and encoded again (the join and the zstd encoding are most of a cut's
time). Only the set the file joins (or starts) is built again.

A set's key names everything its shards' bytes depend on:
- the code version (the writer's settings, the schema, how texts are combined), the pyarrow
  version (the writer itself) and the rows per shard;
- its files and, for each, its released rows without their texts and its PII-redacted texts,
  hashed by DuckDB row by row (as JSON) in `example_id` order;
- the digests of the sanitized table's row groups that hold its rows (`store.validated`): those
  groups' bytes as stored, so its texts are the same texts.
The rows per row group follow from the same groups (about `ROW_GROUP_TEXT_BYTES` of the set's
own text), never from the other sets.

The cache (`DataDir.shard_cache`) maps a key to the published files built for it and their
SHA-256. A file is taken only when its copy has that hash: a release that an erasure rewrote,
that was damaged, or that was deleted gives nothing, and the set's shards are built as on a
first cut.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from born_assets.schemas.identity import canonical_json, sha256_hex
from born_assets.store.memo import IdIndex, code_version
from born_assets.store.result_cache import ResultCache
from born_assets.store.texts import group_text_bytes
from born_assets.store.unchanged import file_sha256
from born_assets.store.validated import group_digests

SET_ROWS = 10_000
"""Released rows after which a source's run of files closes into a shard set of its own. Adding a
file to a lane then rebuilds that lane's open set (fewer rows than this, plus its last file) and
the file's rows, never the lane's earlier sets; a lane of many small files still fills sets of
at least this many rows, but its last."""
SET_COLUMNS = ("origin_kind", "origin_id", "source_file")
"""The columns that name a row's source file: its source and its shard set follow from them."""
_SEPARATOR = "\x00"  # between a file's three names, in the key `set_positions` looks up
_FILES_SQL = """
SELECT n.origin_kind, n.origin_id, coalesce(n.source_file, '') AS source_file, count(*) AS rows,
       sha256(string_agg(sha256(to_json(n) || '|' || coalesce(to_json(r), '')),
                         '' ORDER BY n.example_id)) AS rows_sha256
FROM read_parquet($narrow) AS n
LEFT JOIN read_parquet($redacted) AS r ON r.example_id = n.example_id
GROUP BY ALL
ORDER BY n.origin_kind, n.origin_id, source_file
"""
"""Each source file's released rows (in shard order): how many, and one hash over them and their
redacted texts (a row's narrow columns and its redacted row, if any, each as a JSON object)."""


@dataclass
class ShardSet:
    """A run of one source's files in a cut: its released rows, and what its shards' key holds."""

    origin_kind: str
    origin_id: str
    files: list[tuple[str, int, str]] = field(default_factory=list)  # path, rows, rows' hash
    rows: int = 0  # its released rows, in all its files
    text_groups: list[str] = field(default_factory=list)  # digests of its sanitized groups
    text_bytes: float = 0.0  # its texts' uncompressed bytes, as its sanitized groups hold them

    def add(self, path: str, rows: int, rows_sha256: str) -> None:
        """Take the file at `path` (its released rows and their hash) into the set."""
        self.files.append((path, rows, rows_sha256))
        self.rows += rows

    def group_rows(self, most_rows: int, text_bytes: int) -> int:
        """Rows per row group of its shards: ~`text_bytes` of its texts, at most `most_rows`."""
        per_row = self.text_bytes / max(self.rows, 1)
        return max(1, min(most_rows, int(text_bytes // max(per_row, 1.0))))

    def shards(self, shard_rows: int) -> int:
        """How many shards its rows fill."""
        return -(-self.rows // shard_rows)

    def key(self, shard_rows: int, group_rows: int) -> str:
        """What its shards' bytes are a function of (see the module)."""
        parts: dict[str, Any] = {
            "code": code_version(),
            "pyarrow": pa.__version__,  # the Parquet writer: its name is in every footer
            "shard_rows": shard_rows,
            "group_rows": group_rows,
            "source": [self.origin_kind, self.origin_id],
            "files": self.files,
            "text_groups": self.text_groups,
        }
        return sha256_hex(canonical_json(parts).encode("utf-8"))


def shard_sets(
    con: duckdb.DuckDBPyConnection,
    narrow: Path,
    sanitized: Path,
    redacted: Path,
    text_columns: Sequence[str],
) -> list[ShardSet]:
    """The shard sets of the narrow rows (a Parquet file sorted by `example_id`), in shard order.

    `sanitized` is the table the texts are taken from (`text_columns`), `redacted` the PII
    step's redacted texts.
    """
    found = con.execute(
        _FILES_SQL, {"narrow": narrow.as_posix(), "redacted": redacted.as_posix()}
    ).fetchall()
    sets: list[ShardSet] = []
    for kind, origin, path, rows, rows_sha256 in found:
        last = sets[-1] if sets else None
        if last is None or (last.origin_kind, last.origin_id) != (kind, origin):
            last = None  # another source: never in the set of the one before
        if last is None or last.rows >= SET_ROWS:
            last = ShardSet(kind, origin)
            sets.append(last)
        last.add(path, rows, rows_sha256)
    if sets:
        _attach_text_groups(sets, narrow, sanitized, text_columns)
    return sets


def _attach_text_groups(
    sets: list[ShardSet], narrow: Path, sanitized: Path, text_columns: Sequence[str]
) -> None:
    """Give each set the digests of the sanitized row groups holding its rows, and its bytes."""
    table = pq.read_table(narrow, columns=["example_id", *SET_COLUMNS])
    index = IdIndex(table.column("example_id"))
    owner = set_positions(table, sets)
    del table
    digests = group_digests(sanitized)
    reader = pq.ParquetFile(sanitized)
    for number, digest in enumerate(digests):
        positions = index.positions(reader.read_row_group(number, ["example_id"]).column(0))
        counts = np.bincount(owner[positions[positions >= 0]], minlength=len(sets))
        group = reader.metadata.row_group(number)
        text = group_text_bytes(group, text_columns)
        for held in np.flatnonzero(counts):
            sets[held].text_groups.append(digest.hex())
            sets[held].text_bytes += counts[held] * text / max(group.num_rows, 1)


def set_positions(rows: pa.Table | pa.RecordBatch, sets: Sequence[ShardSet]) -> np.ndarray:
    """Each row's shard set: its position in `sets`, -1 for a file in none of them."""
    names = (pc.fill_null(rows.column(c), "") for c in SET_COLUMNS)
    keys = pc.binary_join_element_wise(*names, _SEPARATOR)
    files = [
        _SEPARATOR.join((held.origin_kind, held.origin_id, path))
        for held in sets
        for path, _, _ in held.files
    ]
    # Each file's set, then -1: the place a file in none of them (index -1) looks up.
    owners = np.append(np.repeat(np.arange(len(sets)), [len(held.files) for held in sets]), -1)
    found = pc.fill_null(pc.index_in(keys, value_set=pa.array(files, pa.string())), -1)
    return owners[np.asarray(found)]


@dataclass(frozen=True)
class ShardCache:
    """Published shards by their source's key, taken again only while their bytes are the same."""

    folder: Path  # `DataDir.shard_cache`
    root: Path  # the data dir: entries name files relative to it

    def take(self, key: str, paths: Sequence[Path]) -> bool:
        """Copy the shards built for `key` to `paths`; False (and nothing left) when any is not.

        Not there: no entry, another count of files, a file gone (or not a regular file inside
        the data dir), or a copy whose SHA-256 is not the one recorded when it was written.
        """
        entry = ResultCache(self.folder).get(key)
        files = entry.get("files") if entry else None
        if not isinstance(files, list) or len(files) != len(paths):
            return False
        for path, recorded in zip(paths, files, strict=True):
            source = (self.root / str(recorded.get("path", ""))).resolve()
            if not (source.is_relative_to(self.root.resolve()) and source.is_file()):
                break  # an entry names only published files, never a FIFO it would wait on
            try:
                shutil.copyfile(source, path)
            except OSError:
                break
            if file_sha256(path) != recorded.get("sha256"):
                break
        else:
            return True
        for path in paths:
            path.unlink(missing_ok=True)
        return False

    def remember(self, key: str, written: Sequence[Path], published: Sequence[Path]) -> None:
        """Record the shards just `written` for `key`, under the paths they are `published` at."""
        files = [
            {"path": target.relative_to(self.root).as_posix(), "sha256": file_sha256(path)}
            for path, target in zip(written, published, strict=True)
        ]
        ResultCache(self.folder).put(key, {"files": files})
