"""Column groups that several tables share, declared once: the tables inherit them.

Pandera collects a model's columns base class first, so a table that inherits a group starts with
the group's columns in the order given here. A table that needs a column worded differently (the
lineage record) declares it itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.conversation import MESSAGES, TOOLS
from born_assets.schemas.vocabulary import OriginKind, values

UTC = {"unit": "us", "tz": "UTC"}
SHA256_HEX = r"^[0-9a-f]{64}$"
EXAMPLE_ID = r"^ex_[0-9a-f]{24}$"
FRAME_CHECK_READS = "frame_check_reads"
"""Attribute on a check across columns: the columns it reads (set by `reads`)."""
_Check = TypeVar("_Check", bound=Callable[..., pd.Series])


def reads(*columns: str) -> Callable[[_Check], _Check]:
    """Name the columns a check across columns reads (under `@classmethod`).

    The other columns of a model whose checks across columns all say what they read need not be
    converted to pandas to be validated (`schemas.derive.validate_batches`). A check that reads a
    column it does not name fails with a `KeyError` naming it; it does not pass.
    """

    def mark(check: _Check) -> _Check:
        setattr(check, FRAME_CHECK_READS, columns)
        return check

    return mark


class OriginColumns(pa.DataFrameModel):
    """Which lane or import a row belongs to."""

    origin_kind: Series[str] = pa.Field(isin=values(OriginKind), description="lane or import.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")


class LineColumns(OriginColumns):
    """Which input line a row was read from."""

    source_file: Series[str] = pa.Field(description="Input file, relative to the data dir.")
    source_line: Series[int] = pa.Field(ge=1, description="1-based line number in the file.")


class ExampleColumns(LineColumns):
    """An example after ingest: its stable id, where it came from, its family and prompt hash."""

    example_id: Series[str] = pa.Field(unique=True, description="Stable example id.")
    source_benchmark: Series[str] = pa.Field(description="Benchmark family or dataset family.")
    prompt_hash: Series[str] = pa.Field(
        str_matches=SHA256_HEX, description="SHA-256 of the prompt as sent."
    )


class VerdictColumns(pa.DataFrameModel):
    """A narrow verdict table's key: one row per judged example, and its source."""

    example_id: Series[str] = pa.Field(unique=True, description="The judged example.")
    origin_id: Series[str] = pa.Field(description="The lane id or import id.")


class ConversationColumns(pa.DataFrameModel):
    """A row as a conversation: its visible messages and the tools its teacher was given."""

    messages: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={"pyarrow_dtype": MESSAGES},
        description=(
            "Every visible turn in order (system, user, assistant text, each tool call, each "
            "tool result), hidden reasoning removed: {role, content, tool_calls [{id, type, "
            "function {name, arguments (JSON text)}}], tool_call_id, name}. Canonical for training."
        ),
    )
    tools: Series[pd.ArrowDtype] = pa.Field(
        dtype_kwargs={"pyarrow_dtype": TOOLS},
        description=(
            "The function schemas the teacher was given: [{type, function {name, description, "
            "parameters (JSON Schema as text)}}]; empty when none were declared."
        ),
    )
