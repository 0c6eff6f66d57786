"""Counts over a release's texts, shard by shard, remembered by each shard's SHA-256.

The card's length histogram of prompts and responses and its count of prompts the PII step
changed read every released text, the most a release's documents read. A shard copied from an
earlier release (`release.source_shards`) holds the texts it held there, so its counts are
remembered in `cache/text_facts/` under its SHA-256 and the code version, and a cut reads only
the shards it wrote. The counts add up shard by shard to those of one query over all of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from born_assets.schemas.identity import canonical_json, sha256_hex
from born_assets.store.memo import code_version
from born_assets.store.result_cache import ResultCache
from born_assets.store.unchanged import file_sha256

LENGTH_BINS_PER_DECADE = 5
"""Bins of the length histogram per factor of ten characters."""
_FACTS_SQL = """
SELECT CAST(floor(log10(greatest(length(prompt), 1)) * $k) AS BIGINT),
       CAST(floor(log10(greatest(length(response), 1)) * $k) AS BIGINT),
       coalesce(sha256(prompt) <> prompt_hash, false),
       count(*)
FROM read_parquet($shard)
GROUP BY ALL
"""
"""One shard's rows by prompt length bin, response length bin and whether the prompt differs from
the one its `prompt_hash` was taken of (the PII step redacted it)."""


@dataclass
class TextFacts:
    """Released rows by prompt and response length bin, and how many prompts were redacted."""

    prompt_lengths: Counter[int] = field(default_factory=Counter)
    response_lengths: Counter[int] = field(default_factory=Counter)
    prompts_changed: int = 0

    def add(self, other: TextFacts) -> None:
        """Count `other`'s rows too."""
        self.prompt_lengths.update(other.prompt_lengths)
        self.response_lengths.update(other.response_lengths)
        self.prompts_changed += other.prompts_changed

    def as_record(self) -> dict[str, Any]:
        """The counts as JSON (bins as strings)."""
        return {
            "prompt_lengths": {str(b): n for b, n in sorted(self.prompt_lengths.items())},
            "response_lengths": {str(b): n for b, n in sorted(self.response_lengths.items())},
            "prompts_changed": self.prompts_changed,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> TextFacts | None:
        """Counts `as_record` wrote; None when there are none or they are not well-formed."""
        if record is None:
            return None
        try:
            facts = cls(
                Counter({int(b): int(n) for b, n in record["prompt_lengths"].items()}),
                Counter({int(b): int(n) for b, n in record["response_lengths"].items()}),
                int(record["prompts_changed"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        return facts


def text_facts(
    con: duckdb.DuckDBPyConnection, shards: Sequence[Path], cache: Path | None
) -> TextFacts:
    """The counts over every row of `shards`: read from `cache` for a shard counted before."""
    remembered = ResultCache(cache) if cache is not None else None
    total = TextFacts()
    for shard in shards:
        key = sha256_hex(
            canonical_json({"code": code_version(), "shard": file_sha256(shard)}).encode()
        )
        facts = TextFacts.from_record(remembered.get(key)) if remembered is not None else None
        if facts is None:
            facts = _counted(con, shard)
            if remembered is not None:
                remembered.put(key, facts.as_record())
        total.add(facts)
    return total


def _counted(con: duckdb.DuckDBPyConnection, shard: Path) -> TextFacts:
    facts = TextFacts()
    found = con.execute(_FACTS_SQL, {"shard": shard.as_posix(), "k": LENGTH_BINS_PER_DECADE})
    for prompt, response, changed, rows in found.fetchall():
        facts.prompt_lengths[int(prompt)] += int(rows)
        facts.response_lengths[int(response)] += int(rows)
        facts.prompts_changed += int(rows) if changed else 0
    return facts
