"""Refusing a line inside a line parser: the reason, the field to blame, and why."""

from __future__ import annotations

from dataclasses import dataclass

from born_assets.schemas.vocabulary import QuarantineReason


@dataclass(frozen=True)
class Rejection:
    """A refusal raised while reading one line: the reason, the field to blame, and why."""

    reason: QuarantineReason
    field: str | None
    message: str


class RejectedLine(Exception):
    """Raised inside a line parser to refuse the line; carries a `Rejection`."""

    def __init__(self, reason: QuarantineReason, field: str | None, message: str) -> None:
        super().__init__(message)
        self.rejection = Rejection(reason, field, message)
