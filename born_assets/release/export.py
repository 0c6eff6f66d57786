"""A release's conversations as JSONL for a trainer: TRL (`trl`) or OpenAI fine-tuning (`openai`).

One line per released row, in release order: `{"messages": [...], "tools": [...]}` (`tools` only
when the row declares some). The release keeps tool-call `arguments` and tool `parameters` as
JSON text (one Parquet type for every row); each trainer wants them its own way:

* `trl`: TRL's SFTTrainer and transformers chat templates take `arguments` and `parameters` as
  objects; a message keeps its non-null keys (`tool_call_id` and `name` on tool results).
* `openai`: OpenAI's fine-tuning files take `arguments` as a JSON string, an `id` on every call
  and `tool_call_id` on every tool message (a tool message carries no `name` there); `parameters`
  is an object.

Arguments that are not JSON (a release whose policy let such a row through) stay text in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, TextIO

from born_assets.layout import ReleaseDir
from born_assets.store.parquet import parquet_reader

_BATCH_ROWS = 1000


class ExportFormat(StrEnum):
    """The trainers `export` writes for."""

    TRL = "trl"
    OPENAI = "openai"


def export_release(release: ReleaseDir, fmt: ExportFormat, out: TextIO) -> int:
    """Write every row of `release` to `out` as JSONL for `fmt`; return the rows written."""
    written = 0
    for row in _rows(release):
        out.write(json.dumps(trainer_row(row, fmt), ensure_ascii=False) + "\n")
        written += 1
    return written


def _rows(release: ReleaseDir) -> Iterator[dict[str, Any]]:
    for shard in release.shards():
        parquet = parquet_reader(shard)
        for batch in parquet.iter_batches(_BATCH_ROWS, columns=["messages", "tools"]):
            yield from batch.to_pylist()


def trainer_row(row: dict[str, Any], fmt: ExportFormat) -> dict[str, Any]:
    """One release row (`messages`, `tools`) in the form `fmt` takes."""
    out: dict[str, Any] = {"messages": [_message(m, fmt) for m in row["messages"]]}
    if row["tools"]:
        out["tools"] = [_tool(tool) for tool in row["tools"]]
    return out


def _message(message: dict[str, Any], fmt: ExportFormat) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message["role"], "content": message["content"]}
    if message["tool_calls"]:
        out["tool_calls"] = [_call(call, fmt) for call in message["tool_calls"]]
    if message["tool_call_id"] is not None:
        out["tool_call_id"] = message["tool_call_id"]
    if message["name"] is not None and not (
        fmt is ExportFormat.OPENAI and message["role"] == "tool"
    ):
        out["name"] = message["name"]
    if out["content"] is None and fmt is ExportFormat.TRL:
        del out["content"]
    return out


def _call(call: dict[str, Any], fmt: ExportFormat) -> dict[str, Any]:
    arguments = call["function"]["arguments"]
    if fmt is ExportFormat.TRL:
        arguments = _parsed(arguments)
    return {
        "id": call["id"],
        "type": call["type"] or "function",
        "function": {"name": call["function"]["name"], "arguments": arguments},
    }


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = {"name": tool["function"]["name"]}
    if tool["function"]["description"] is not None:
        function["description"] = tool["function"]["description"]
    if tool["function"]["parameters"] is not None:
        function["parameters"] = _parsed(tool["function"]["parameters"])
    return {"type": tool["type"] or "function", "function": function}


def _parsed(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
