"""Two id-sorted streams become one, in batches of exactly the size asked for."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from born_assets.store.texts import merge_sorted


def _stream(ids: list[str], side: str, sizes: list[int]) -> list[pa.RecordBatch]:
    batches, start = [], 0
    for size in sizes:
        chunk = ids[start : start + size]
        batches.append(pa.record_batch({"example_id": chunk, "side": [side] * len(chunk)}))
        start += size
    return batches


@pytest.mark.parametrize("seed", range(6))
def test_merged_rows_are_sorted_complete_and_evenly_batched(seed: int) -> None:
    chooser = random.Random(seed)
    ids = sorted(f"ex_{chooser.getrandbits(40):010x}" for _ in range(chooser.randint(0, 120)))
    left = [i for i in ids if chooser.random() < 0.3]
    right = [i for i in ids if i not in set(left)]
    left_sizes = [chooser.randint(0, 9) for _ in range(len(left) + 1)]
    right_sizes = [chooser.randint(0, 9) for _ in range(len(right) + 1)]
    left_sizes.append(len(left))  # whatever is left over
    right_sizes.append(len(right))

    merged = list(
        merge_sorted(_stream(left, "l", left_sizes), _stream(right, "r", right_sizes), 16)
    )

    rows = [row for batch in merged for row in batch.to_pylist()]
    assert [row["example_id"] for row in rows] == ids
    assert {row["example_id"] for row in rows if row["side"] == "l"} == set(left)
    assert all(batch.num_rows == 16 for batch in merged[:-1])
    assert not merged or 0 < merged[-1].num_rows <= 16
