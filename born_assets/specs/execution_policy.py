"""`execution` in the policy file: which families must pass their tests, and the sandbox's limits.

`require_tests` per benchmark family (`default` for the rest): `pass` (a row whose tests do not
pass is gated out with `tests_failed`, or only scored down when `severity` is `soft`), `record`
(run and record, decide nothing) or `off` (do not run). The statuses that count as not passing
are `fail_statuses`; `not_executable` is never the code's fault and counts only if listed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from born_assets.schemas.execution import ExecutionStatus
from born_assets.schemas.reasons import Severity
from born_assets.specs.common import StrictModel, key_error

DEFAULT_FAMILY = "default"


class RequireTests(StrEnum):
    """What a family's rows must show."""

    PASS = "pass"
    RECORD = "record"
    OFF = "off"


class IsolationChoice(StrEnum):
    """Which sandbox to use: bubblewrap when it works here (`auto`), always, or limits only."""

    AUTO = "auto"
    BWRAP = "bwrap"
    LIMITS = "limits"


MAX_MEMORY_MB = 1024 * 1024  # 1 TiB of address space
MAX_FILE_MB = 64 * 1024  # 64 GiB


class ExecutionLimits(StrictModel):
    """Per run: wall and CPU seconds, address space, file size, processes, private /tmp size.

    Every limit is bounded above as well: each becomes an `setrlimit` or a tmpfs size in bytes,
    and a value the kernel cannot take would fail every run, so it is refused at load instead.
    """

    wall_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    cpu_seconds: Annotated[int, Field(strict=True, gt=0, le=3600)] = 60
    memory_mb: Annotated[int, Field(strict=True, ge=64, le=MAX_MEMORY_MB)] = 4096
    file_size_mb: Annotated[int, Field(strict=True, ge=1, le=MAX_FILE_MB)] = 32
    processes: Annotated[int, Field(strict=True, ge=1, le=4096)] = 64
    tmp_mb: Annotated[int, Field(strict=True, ge=1, le=MAX_FILE_MB)] = 256
    stderr_tail_bytes: Annotated[int, Field(strict=True, ge=0, le=65536)] = 2048


class ExecutionPolicy(StrictModel):
    """`execution`: the gate on observed test results, and how code is run."""

    require_tests: dict[str, RequireTests] = Field(
        default_factory=lambda: {DEFAULT_FAMILY: RequireTests.RECORD}
    )
    severity: Severity = Severity.HARD
    soft_failure_factor: Annotated[float, Field(ge=0, le=1)] = 0.5
    fail_statuses: tuple[ExecutionStatus, ...] = (
        ExecutionStatus.FAILED,
        ExecutionStatus.ERROR,
        ExecutionStatus.TIMEOUT,
    )
    isolation: IsolationChoice = IsolationChoice.AUTO
    limits: ExecutionLimits = ExecutionLimits()

    @field_validator("require_tests")
    @classmethod
    def _has_default(cls, value: dict[str, RequireTests]) -> dict[str, RequireTests]:
        if DEFAULT_FAMILY not in value:
            raise key_error(DEFAULT_FAMILY, "required (the families not listed)")
        return value

    @field_validator("fail_statuses")
    @classmethod
    def _not_passed(cls, value: tuple[ExecutionStatus, ...]) -> tuple[ExecutionStatus, ...]:
        if ExecutionStatus.PASSED in value:
            raise ValueError("`passed` cannot be a failing status")
        return value

    def requirement(self, family: str) -> RequireTests:
        """The family's `require_tests` (else the default's)."""
        return self.require_tests.get(family, self.require_tests[DEFAULT_FAMILY])
