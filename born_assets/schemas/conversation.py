"""The Arrow types of a conversation: the `messages` and `tools` columns, as nested Parquet.

A message is the form TRL's SFTTrainer and OpenAI fine-tuning files take:
`{role, content, tool_calls: [{id, type, function: {name, arguments}}], tool_call_id, name}`.
Tool-call `arguments` and a tool's `parameters` (its JSON Schema) stay JSON text, as OpenAI sends
them: one stable type across rows whose tools differ. `born export` turns them into the form each
trainer wants.
"""

from __future__ import annotations

import pyarrow as pa

FUNCTION_CALL = pa.struct([("name", pa.string()), ("arguments", pa.string())])
TOOL_CALL = pa.struct([("id", pa.string()), ("type", pa.string()), ("function", FUNCTION_CALL)])
MESSAGE = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("tool_calls", pa.list_(TOOL_CALL)),
        ("tool_call_id", pa.string()),
        ("name", pa.string()),
    ]
)
MESSAGES = pa.list_(MESSAGE)
"""The `messages` column: a list of message structs."""

FUNCTION = pa.struct(
    [("name", pa.string()), ("description", pa.string()), ("parameters", pa.string())]
)
TOOLS = pa.list_(pa.struct([("type", pa.string()), ("function", FUNCTION)]))
"""The `tools` column: the function schemas the teacher was given."""
