"""Texts joined only to the rows that need them: the others come back with nulls, unread."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from born_assets.store.texts import with_texts_where


def _wanted(batch: pa.RecordBatch) -> pa.Array:
    return pc.equal(batch.column("kind"), "code")


@pytest.mark.parametrize("share", [0.0, 0.4, 1.0])  # none wanted: the text table has no rows
@pytest.mark.parametrize("seed", range(3))
def test_only_wanted_rows_get_texts_and_every_row_comes_back_sorted(
    tmp_path: Path, seed: int, share: float
) -> None:
    chooser = random.Random(seed)
    ids = [f"ex_{chooser.getrandbits(40):010x}" for _ in range(chooser.randint(1, 90))]
    kinds = ["code" if chooser.random() < share else "chat" for _ in ids]
    narrow = tmp_path / "narrow-in.parquet"
    pq.write_table(pa.table({"example_id": ids, "kind": kinds}), narrow)
    coded = [(i, f"text of {i}") for i, k in zip(ids, kinds, strict=True) if k == "code"]
    chooser.shuffle(coded)  # the text table is in any order, and lacks the rows not wanted
    texts = tmp_path / "texts.parquet"
    text_schema = pa.schema([("example_id", pa.string()), ("response", pa.string())])
    pq.write_table(
        pa.table(
            {"example_id": [i for i, _ in coded], "response": [t for _, t in coded]},
            schema=text_schema,
        ),
        texts,
        row_group_size=7,
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with duckdb.connect() as con:
        batches = list(
            with_texts_where(
                con,
                "SELECT * FROM read_parquet($narrow)",
                {"narrow": narrow.as_posix()},
                texts,
                ["response"],
                _wanted,
                scratch,
                8,
            )
        )

    rows = [row for batch in batches for row in batch.to_pylist()]
    assert [row["example_id"] for row in rows] == sorted(ids)
    for row in rows:
        expected = f"text of {row['example_id']}" if row["kind"] == "code" else None
        assert row["response"] == expected
    assert all(batch.num_rows == 8 for batch in batches[:-1])
    assert all(b.schema.names == ["example_id", "kind", "response"] for b in batches)
