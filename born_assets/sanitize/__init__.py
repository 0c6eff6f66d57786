"""Sanitization: strip hidden reasoning, keep what a user would see, rewrite into closure format.

`pipeline.sanitize_row` is the entry point; `thinking` and `closure` are its two steps. This
package does not import Dagster.
"""

from born_assets.sanitize.pipeline import (
    EmptyReason,
    EmptyVisible,
    SanitizedRow,
    Transform,
    sanitize_row,
)

__all__ = ["EmptyReason", "EmptyVisible", "SanitizedRow", "Transform", "sanitize_row"]
