"""`generated_at`: when a spec declares its rows were generated, for rows that do not say.

A lane manifest or an import spec may declare `generated_at` as one date or time
(`generated_at: 2024-06-20`) or a range (`generated_at: {from: 2024-05-01, to: 2024-06-30}`), e.g.
the dataset's publication. A row whose record carries no generation time takes the declared one
and says so (`timestamp_source: declared`); a date means its whole day, and a row's declared
`generation_timestamp` is the latest moment the declaration allows (the end of the day, of the
range): the time by which the row existed for certain.

A time without a zone is refused, like a row's: the declaration must be unambiguous.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Self

from pydantic import Field, model_validator

from born_assets.specs.common import StrictModel

_END_OF_DAY = time(23, 59, 59, 999999, tzinfo=UTC)


def _moment(value: date | datetime, end_of_day: bool) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no time zone; add Z or an offset")
        return value.astimezone(UTC)
    return datetime.combine(value, _END_OF_DAY if end_of_day else time(tzinfo=UTC))


def _parsed(value: Any) -> Any:
    """A date for `YYYY-MM-DD`, else a datetime for an ISO time (YAML gives either already)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return value  # the field's own validation names the problem


class GeneratedAt(StrictModel):
    """A declared generation date or range (UTC); build it from YAML with `GeneratedAt.parse`."""

    start: datetime | date = Field(alias="from")
    end: datetime | date = Field(alias="to")

    @model_validator(mode="before")
    @classmethod
    def _one_value(cls, value: Any) -> Any:
        if isinstance(value, date | str):
            value = {"from": value, "to": value}
        if isinstance(value, dict):
            return {key: _parsed(item) for key, item in value.items()}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.earliest > self.latest:
            raise ValueError(f"`from` ({self.start}) is after `to` ({self.end})")
        return self

    @property
    def earliest(self) -> datetime:
        """The first moment the declaration allows."""
        return _moment(self.start, end_of_day=False)

    @property
    def latest(self) -> datetime:
        """The last moment the declaration allows: a declared row's `generation_timestamp`."""
        return _moment(self.end, end_of_day=True)

    def __str__(self) -> str:
        if self.start == self.end:
            return str(self.start)
        return f"{self.start}..{self.end}"


NO_TIME_SOURCE = (
    "the rows' generation time has no source: declare `generated_at` (a date or "
    "{from: DATE, to: DATE}, e.g. the dataset's publication) or say where each record carries it"
)
"""The load error of a spec that gives neither a record timestamp nor `generated_at`."""
