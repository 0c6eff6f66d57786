"""The released rows' texts: sanitized, or PII-redacted where the PII step rewrote them.

DuckDB sorts the released rows without their texts (`release.build`); `store.texts` brings the
texts in bucket by bucket, in bounded memory, and here they are combined: a redacted prompt,
response and messages replace the sanitized ones, and the PII step's transform record is
appended to the row's `post_processing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from born_assets.store.texts import BUDGET_BYTES, attach, bucketed_texts, rebatched

TEXT_COLUMNS = ("prompt", "response", "messages", "tools", "post_processing")
"""Taken from the sanitized rows."""
REDACTED_COLUMNS = ("prompt", "response", "messages")
"""Taken from the PII-redacted rows where a row has one."""
REDACTION = "redaction"
"""Column of the narrow rows: the PII step's transform record (JSON), null where none."""


def _combined(narrow: pa.Table, texts: pa.Table, redacted: pa.Table) -> pa.Table:
    """The narrow rows with their texts (texts sorted like `narrow`; redacted where redacted)."""
    rows = attach(narrow, texts)
    where = pc.index_in(rows.column("example_id"), value_set=redacted.column("example_id"))
    has = pc.is_valid(where)
    if redacted.num_rows:
        for name in REDACTED_COLUMNS:
            replaced = redacted.column(name).take(where)
            value = rows.column(name)
            value = (
                pc.if_else(has, replaced, value)
                if name == "messages"
                else pc.coalesce(replaced, value)
            )
            rows = rows.set_column(rows.schema.get_field_index(name), name, value)
    redaction = rows.column(REDACTION)
    history = rows.column("post_processing")
    joined = pc.binary_join_element_wise(pc.utf8_slice_codeunits(history, 0, -1), redaction, ",")
    extended = pc.binary_join_element_wise(joined, pa.scalar("]"), "")
    rows = rows.set_column(
        rows.schema.get_field_index("post_processing"),
        "post_processing",
        pc.if_else(pc.is_null(redaction), history, extended),
    )
    return rows.drop_columns([REDACTION])


def with_release_texts(
    narrow: Path,
    sanitized: Path,
    redacted: Path,
    scratch: Path,
    batch_rows: int,
    budget_bytes: int = BUDGET_BYTES,
) -> Iterator[pa.RecordBatch]:
    """The narrow rows (a Parquet file sorted by `example_id`, with `REDACTION`) with their texts.

    Yields batches of `batch_rows` rows in the narrow file's order, each with the narrow columns
    (but `REDACTION`) and `TEXT_COLUMNS`.

    Raises:
        ValueError: A narrow row has no sanitized row (or several).
    """
    sources = [(sanitized, TEXT_COLUMNS), (redacted, REDACTED_COLUMNS)]
    joined = (
        _combined(part, texts, fixes)
        for part, (texts, fixes) in bucketed_texts(
            narrow, sources, scratch, batch_rows, budget_bytes
        )
    )
    yield from rebatched(joined, batch_rows)
