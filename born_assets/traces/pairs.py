"""Prompt/response pair adapter: one prompt column and one response column, named by the spec.

Teacher lane outputs and instruction datasets (`instruction` + `output`, `prompt` +
`completion`, ...) become one user turn and one assistant turn, each a single text block kept
verbatim (inline `<think>` is left for the sanitizer). Both fields must be strings; a null
response (a failed generation) is a mismatch, an empty string is not.
"""

from __future__ import annotations

from typing import Any

from born_assets.traces.conversation import (
    Block,
    BlockKind,
    Role,
    TraceExample,
    Turn,
    recorded_example,
)
from born_assets.traces.fields import (
    AdapterSpec,
    expect_str,
    get_field,
)


def adapt(record: dict[str, Any], spec: AdapterSpec) -> TraceExample:
    """Adapt one prompt/response record.

    Args:
        record: The parsed JSON line.
        spec: `prompt_field` and `response_field` (both required), plus optional `id_field`,
            `model_field` and `timestamp_field`.

    Returns:
        The example: one user turn, one assistant turn.

    Raises:
        ValueError: The spec does not name both fields (a configuration error, not a row error).
        FormatMismatch: A field is missing or not a string.
    """
    if spec.prompt_field is None or spec.response_field is None:
        raise ValueError("prompt_response needs AdapterSpec.prompt_field and response_field")
    prompt = expect_str(get_field(record, spec.prompt_field), spec.prompt_field)
    response = expect_str(get_field(record, spec.response_field), spec.response_field)
    return recorded_example(
        record,
        spec,
        (
            (Turn(Role.USER, (Block(BlockKind.TEXT, prompt),)),),
            (Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, response),)),),
        ),
    )
