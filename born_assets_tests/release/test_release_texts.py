"""Released rows get their texts in bounded buckets: same rows, same order, redactions applied."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.release.texts import REDACTION, with_release_texts

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))


def _id(i: int) -> str:
    return "ex_" + hashlib.sha256(str(i).encode()).hexdigest()[:24]


def _sanitized(path: Path, count: int) -> list[dict[str, Any]]:
    rows = [
        {
            "example_id": _id(i),
            "prompt": f"prompt {i} " * (1 + i % 7),
            "response": f"response {i}",
            "messages": [{"role": "user", "content": f"prompt {i}"}],
            "tools": None if i % 3 else '[{"name": "t"}]',
            "post_processing": f'[{{"name": "step{i}"}}]',
        }
        for i in range(count)
    ]  # input order, not sorted by id
    schema = pa.schema(
        [
            ("example_id", pa.string()),
            ("prompt", pa.string()),
            ("response", pa.string()),
            ("messages", MESSAGES),
            ("tools", pa.string()),
            ("post_processing", pa.string()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=9)
    return rows


def _redacted(path: Path, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "example_id": example_id,
            "prompt": f"[REDACTED] {n}",
            "response": None,  # the response had nothing to redact: the sanitized one ships
            "messages": [{"role": "user", "content": "[REDACTED]"}],
        }
        for n, example_id in enumerate(ids)
    ]
    schema = pa.schema(
        [
            ("example_id", pa.string()),
            ("prompt", pa.string()),
            ("response", pa.string()),
            ("messages", MESSAGES),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return {row["example_id"]: row for row in rows}


def test_texts_join_in_small_buckets_like_a_plain_join(tmp_path: Path) -> None:
    sanitized = _sanitized(tmp_path / "sanitized.parquet", 60)
    released = sorted(row["example_id"] for row in sanitized[::2] + sanitized[1:20:2])
    fixed = _redacted(tmp_path / "redacted.parquet", released[3:9])
    redactions = {example_id: '{"name": "pii"}' for example_id in fixed}
    narrow = pa.table(
        {
            "example_id": released,
            "origin_id": ["lane"] * len(released),
            REDACTION: [redactions.get(example_id) for example_id in released],
        }
    )
    pq.write_table(narrow, tmp_path / "narrow.parquet", row_group_size=4)

    batches = list(
        with_release_texts(
            tmp_path / "narrow.parquet",
            tmp_path / "sanitized.parquet",
            tmp_path / "redacted.parquet",
            tmp_path / "scratch",
            batch_rows=7,
            budget_bytes=400,  # a few rows a bucket: many buckets
        )
    )

    assert [b.num_rows for b in batches[:-1]] == [7] * (len(batches) - 1)
    got = pa.Table.from_batches(batches).to_pylist()
    by_id = {row["example_id"]: row for row in sanitized}
    expected = []
    for example_id in released:
        row, fix = by_id[example_id], fixed.get(example_id)
        history = row["post_processing"]
        expected.append(
            {
                "example_id": example_id,
                "origin_id": "lane",
                "prompt": fix["prompt"] if fix else row["prompt"],
                "response": row["response"],
                "messages": fix["messages"] if fix else row["messages"],
                "tools": row["tools"],
                "post_processing": history[:-1] + "," + redactions[example_id] + "]"
                if fix
                else history,
            }
        )
    assert got == expected


def test_a_released_row_without_text_is_an_error(tmp_path: Path) -> None:
    _sanitized(tmp_path / "sanitized.parquet", 10)
    _redacted(tmp_path / "redacted.parquet", [])
    narrow = pa.table({"example_id": sorted([_id(1), _id(99)]), REDACTION: [None, None]})
    narrow = narrow.cast(pa.schema([("example_id", pa.string()), (REDACTION, pa.string())]))
    pq.write_table(narrow, tmp_path / "narrow.parquet")
    with pytest.raises(ValueError, match="no sanitized text"):
        list(
            with_release_texts(
                tmp_path / "narrow.parquet",
                tmp_path / "sanitized.parquet",
                tmp_path / "redacted.parquet",
                tmp_path / "scratch",
                batch_rows=10,
            )
        )
