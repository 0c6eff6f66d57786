"""The `closure` section of the policy: how a conversation is rendered as closure text.

`born_assets.sanitize` reads it: which tools edit files (their calls are the Code section),
which hand in the answer (the Result), and how much of a command's observed output the Checks
section keeps before cutting it with a visible marker. Names are matched lowercased.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import field_validator

from born_assets.specs.common import NonEmptyStr, PositiveInt, StrictModel


class ClosurePolicy(StrictModel):
    """`closure`: tool roles and the output length kept in Checks."""

    max_output_chars: PositiveInt = 2000
    edit_tools: tuple[NonEmptyStr, ...] = ()
    submit_tools: tuple[NonEmptyStr, ...] = ()

    @field_validator("edit_tools", "submit_tools")
    @classmethod
    def _lowercase(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name.lower() for name in value)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the settings (what a sanitized row depends on besides its text)."""
        settings = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(settings.encode("utf-8")).hexdigest()
