"""The PII scan runs on every core, and that must never change what it writes.

`scan_candidates` scans batches in worker processes and writes the verdicts in input order, so
the verdict and redacted tables (and so the release built from them) are the same bytes whatever
the worker count; rows remembered from the last scan are taken as they were, not scanned again.
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from born_assets import layout
from born_assets.governance.pii_stage import PiiMemo, candidates, pii_versions, scan_candidates
from born_assets.sanitize.stage import ROWS_SCHEMA
from born_assets.specs.pii_policy import PiiPolicy
from born_assets.store.memo import write_versions
from born_assets.store.unchanged import record

TEXTS = [
    "Write to ada@lovelace-labs.io about the report.",
    "Nothing personal here, just a sum of two numbers.",
    'password = "Zx9!kq#Lw2"  # the admin login',
    "Thanks, Adam, the call to 212-867-5309 went fine.",
    "Use user@example.com as a placeholder address.",
]


def _inputs(folder: Path, rows: int, row_group: int | None = None) -> tuple[Path, Path]:
    ids = [f"ex-{i:04d}" for i in range(rows)]
    texts = [TEXTS[i % len(TEXTS)] + f" ({i})" for i in range(rows)]
    messages = [
        [{"role": "user", "content": t, "tool_calls": None, "tool_call_id": None, "name": None}]
        for t in texts
    ]
    sanitized = pa.table(
        {
            "example_id": ids,
            "prompt": texts,
            "response": [f"## Plan\n{t}" for t in texts],
            "messages": pa.array(messages, ROWS_SCHEMA.field("messages").type),
            "tools": pa.array([None] * rows, ROWS_SCHEMA.field("tools").type),
        }
    )
    deduplicated = pa.table({"example_id": ids, "origin_id": ["lane-a"] * rows})
    pq.write_table(sanitized, folder / "sanitized.parquet", row_group_size=row_group)
    pq.write_table(deduplicated, folder / "deduplicated.parquet")
    return folder / "deduplicated.parquet", folder / "sanitized.parquet"


def _scan(inputs: tuple[Path, Path], out: Path, workers: int, memo: PiiMemo | None = None):
    out.mkdir()
    return scan_candidates(
        deduplicated=inputs[0],
        sanitized=inputs[1],
        policy=PiiPolicy(),
        out_dir=out,
        batch_rows=7,
        memo=memo,
        workers=workers,
    )


def test_the_scan_writes_the_same_tables_on_one_core_and_on_two(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, 40)
    one = _scan(inputs, tmp_path / "one", workers=1)
    two = _scan(inputs, tmp_path / "two", workers=2)
    assert one == two
    assert one.rows == 40 and sum(one.redacted.values()) > 0
    for name in (layout.ROWS, layout.REDACTED):
        assert pq.read_table(tmp_path / "one" / name).equals(pq.read_table(tmp_path / "two" / name))


def test_remembered_rows_are_taken_as_they_were_with_workers(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, 30)
    first = _scan(inputs, tmp_path / "first", workers=1)
    versions = pii_versions(PiiPolicy())
    write_versions(tmp_path / "first", versions)
    record(tmp_path / "first", [], versions)  # the file hashes a stage records as it publishes
    memo = PiiMemo.open(tmp_path / "first", versions)
    again = _scan(inputs, tmp_path / "again", workers=2, memo=memo)
    assert again.remembered == 30
    assert (again.rows, again.by_status, again.redacted) == (
        first.rows,
        first.by_status,
        first.redacted,
    )
    for name in (layout.ROWS, layout.REDACTED):
        assert pq.read_table(tmp_path / "first" / name).equals(
            pq.read_table(tmp_path / "again" / name)
        )


def test_added_rows_are_scanned_and_known_row_groups_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    _scan(_inputs(tmp_path / "before", 30, row_group=10), tmp_path / "first", workers=1)
    versions = pii_versions(PiiPolicy())
    write_versions(tmp_path / "first", versions)
    record(tmp_path / "first", [], versions)
    memo = PiiMemo.open(tmp_path / "first", versions)
    inputs = _inputs(tmp_path / "after", 45, row_group=10)  # rows 30-44 are new

    prompts = [
        prompt
        for batch, _ in candidates(*inputs, batch_rows=7, memo=memo)
        for prompt in batch.column("prompt").to_pylist()
    ]
    assert prompts[:30] == [None] * 30  # three row groups the memo knows: ids alone
    assert None not in prompts[30:] and len(prompts) == 45

    again = _scan(inputs, tmp_path / "again", workers=2, memo=memo)
    fresh = _scan(inputs, tmp_path / "fresh", workers=1)
    assert (again.remembered, again.rows, again.by_status) == (30, fresh.rows, fresh.by_status)
    for name in (layout.ROWS, layout.REDACTED):
        assert pq.read_table(tmp_path / "again" / name).equals(
            pq.read_table(tmp_path / "fresh" / name)
        )
