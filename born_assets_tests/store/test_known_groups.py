"""An incremental build reads the texts of new rows only: known row groups come as ids alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from born_assets.store.memo import RowMemo, known_groups_narrow


def test_texts_are_read_only_from_row_groups_with_rows_to_compute(tmp_path: Path) -> None:
    ids = [f"ex_{i:02d}" for i in range(30)]
    texts = tmp_path / "rows.parquet"
    schema = pa.schema(  # as the warehouse writes them: the texts are never null there
        [
            pa.field("example_id", pa.string(), nullable=False),
            pa.field("origin_id", pa.string()),
            pa.field("prompt", pa.string(), nullable=False),
        ]
    )
    columns = {
        "example_id": ids,
        "origin_id": ["lane"] * 30,
        "prompt": [f"write function {i}" for i in range(30)],
    }
    table = pa.table(columns, schema=schema)
    pq.write_table(table, texts, row_group_size=10)
    memo_file = tmp_path / "memo.parquet"
    pq.write_table(pa.table({"example_id": ids[:20] + ["ex_25"]}), memo_file)
    memo = RowMemo(memo_file, [])

    def known(group: pa.Table) -> bool:
        assert group.column_names == ["example_id", "origin_id"]
        return bool(np.all(memo.find(group.column("example_id")) >= 0))

    batches = list(
        known_groups_narrow([texts], 4, list(columns), ["example_id", "origin_id"], known)
    )

    # One schema for every batch: the texts a known group leaves out are nullable there.
    expected = schema.set(2, schema.field("prompt").with_nullable(True))
    assert all(batch.schema == expected for batch in batches)
    assert [b.num_rows for b in batches] == [4, 4, 2] * 3  # no batch spans two row groups
    read = pa.Table.from_batches(batches)
    assert read.column("example_id").to_pylist() == ids
    assert read.column("origin_id").to_pylist() == ["lane"] * 30
    # Rows 0-19 sit in row groups the memo knows whole; row 25's group also holds new rows.
    assert (
        read.column("prompt").to_pylist() == [None] * 20 + table.column("prompt").to_pylist()[20:]
    )
