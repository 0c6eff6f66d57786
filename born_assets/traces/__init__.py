"""Trace format adapters: public trace datasets and lane outputs into one neutral model.

Each adapter maps one source record to a `TraceExample` (see `conversation`); `registry.FORMATS`
names them. This package does not import Dagster.
"""

from born_assets.traces.conversation import (
    AdapterSpec,
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    decode_turns,
    encode_turns,
    render_prompt,
)
from born_assets.traces.fields import FormatMismatch

__all__ = [
    "AdapterSpec",
    "Block",
    "BlockKind",
    "FormatMismatch",
    "Role",
    "TraceExample",
    "Turn",
    "decode_turns",
    "encode_turns",
    "render_prompt",
]
