"""Counts over a release's texts add up shard by shard; a shard's are remembered by its bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.release import text_facts as module
from born_assets.release.text_facts import LENGTH_BINS_PER_DECADE, TextFacts, text_facts


def _shard(path: Path, prompts: list[str | None], redacted: set[int]) -> Path:
    """Rows whose `prompt_hash` is their prompt's, but for the `redacted` ones (and nulls)."""
    hashes = [
        None
        if p is None
        else hashlib.sha256((p + "!" if i in redacted else p).encode()).hexdigest()
        for i, p in enumerate(prompts)
    ]
    table = pa.table(
        {
            "prompt": pa.array(prompts, pa.string()),
            "prompt_hash": pa.array(hashes, pa.string()),
            "response": pa.array([(p or "") * 30 for p in prompts], pa.string()),
        }
    )
    pq.write_table(table, path)
    return path


def _whole(con: duckdb.DuckDBPyConnection, shards: list[Path]) -> TextFacts:
    """The counts of one query over all the shards, as the card computed them before."""
    params = {"s": [s.as_posix() for s in shards], "k": LENGTH_BINS_PER_DECADE}
    facts = TextFacts()
    for column, counts in (("prompt", facts.prompt_lengths), ("response", facts.response_lengths)):
        found = con.execute(
            f"SELECT CAST(floor(log10(greatest(length({column}), 1)) * $k) AS BIGINT), count(*) "
            "FROM read_parquet($s) GROUP BY 1",
            params,
        ).fetchall()
        counts.update({int(b): int(n) for b, n in found})
    ((changed,),) = con.execute(
        "SELECT count(*) FROM read_parquet($s) WHERE sha256(prompt) <> prompt_hash",
        {"s": params["s"]},
    ).fetchall()
    facts.prompts_changed = int(changed)
    return facts


def test_shard_counts_add_up_to_those_over_all_shards_and_are_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shards = [
        _shard(tmp_path / "a.parquet", ["x", "a longer prompt", "", None] * 5, {1, 5}),
        _shard(tmp_path / "b.parquet", ["y" * n for n in (1, 12, 123, 1234, 12345)], {4}),
    ]
    cache = tmp_path / "cache"
    with duckdb.connect() as con:
        facts = text_facts(con, shards, cache)
        assert facts == _whole(con, shards)
        assert facts.prompts_changed == 3 and sum(facts.prompt_lengths.values()) == 25

        counted: list[Path] = []
        real = module._counted

        def counting(con: duckdb.DuckDBPyConnection, shard: Path) -> TextFacts:
            counted.append(shard)
            return real(con, shard)

        monkeypatch.setattr(module, "_counted", counting)
        assert text_facts(con, shards, cache) == facts
        assert counted == []  # both remembered

        _shard(shards[1], ["z"] * 3, set())  # another shard's bytes at that path
        again = text_facts(con, shards, cache)
        assert counted == [shards[1]] and again == _whole(con, shards)

        for entry in cache.rglob("*.json"):  # damaged entries: each shard counted again
            entry.write_text('{"prompt_lengths": []}')
        counted.clear()
        assert text_facts(con, shards, cache) == again and counted == shards
        assert text_facts(con, shards, None) == again  # no cache: every shard counted
