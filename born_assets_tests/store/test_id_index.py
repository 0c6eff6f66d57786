"""`IdIndex`: example ids found by binary search, as Arrow's `index_in` would find them."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from born_assets.store.memo import IdIndex


def test_positions_agree_with_arrow_index_in() -> None:
    rng = np.random.default_rng(7)
    ids = [f"ex_{value:024x}" for value in rng.choice(10**9, size=2_000, replace=False)]
    indexed = pa.chunked_array([ids[:700], ids[700:]])  # as read from a multi-group file
    asked = pa.array([*ids[1_500:1_800], "ex_absent", ids[3], "ex_", *ids[:50]])
    index = IdIndex(indexed)

    expected = pc.index_in(asked, value_set=pa.array(ids)).to_numpy(zero_copy_only=False)
    positions = index.positions(asked)
    assert positions.tolist() == [-1 if np.isnan(p) else int(p) for p in expected]
    assert index.contains(asked).tolist() == [p >= 0 for p in positions.tolist()]
    assert len(index) == 2_000


def test_an_empty_index_knows_no_id_and_an_empty_ask_finds_nothing() -> None:
    empty = IdIndex(pa.array([], pa.string()))
    assert empty.positions(pa.array(["ex_a", "ex_b"])).tolist() == [-1, -1]
    assert len(empty) == 0
    index = IdIndex(pa.array(["ex_b", "ex_a"]))
    assert index.positions(pa.array([], pa.string())).tolist() == []
    assert index.positions(pa.array(["ex_a", "ex_b", "ex_c"])).tolist() == [1, 0, -1]
