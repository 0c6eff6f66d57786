"""Control characters: NUL and the C0 set other than tab, newline and carriage return.

They carry no meaning in a prompt or a response, break tokenizers and terminals, and a NUL cuts
C strings short; the sanitizer removes them and records how many (`strip_control_chars`).
"""

from __future__ import annotations

import re
from typing import Any

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def strip_control(text: str) -> tuple[str, int]:
    """`text` without control characters, and how many there were."""
    return CONTROL.subn("", text)


def strip_control_deep(value: Any) -> tuple[Any, int]:
    """Every string in a JSON-like value (dicts, lists) without control characters; the count."""
    if isinstance(value, str):
        return strip_control(value)
    if isinstance(value, dict):
        pairs = [(strip_control_deep(k), strip_control_deep(v)) for k, v in value.items()]
        return {k: v for (k, _), (v, _) in pairs}, sum(a + b for (_, a), (_, b) in pairs)
    if isinstance(value, list):
        items = [strip_control_deep(item) for item in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return value, 0
