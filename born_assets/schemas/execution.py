"""The `executed` table: each candidate row's code run against its task's tests, in a sandbox.

The vocabularies are closed: a status, why a row was not run or did not pass, how it was
isolated, and the one reason the stage removes a row (`tests_failed`).
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from born_assets.schemas.columns import SHA256_HEX, VerdictColumns, reads
from born_assets.schemas.vocabulary import values


class ExecutionStatus(StrEnum):
    """What running a row's code against its task's tests observed."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_EXECUTABLE = "not_executable"


class ExecutionReason(StrEnum):
    """Why a row did not pass, or was not run (`passed` rows have none)."""

    TESTS_FAILED = "tests_failed"  # failed: the tests ran and at least one did not pass
    SETUP_FAILED = "setup_failed"  # error: the code (or the test module) raised before any test
    EXITED_EARLY = "exited_early"  # error: the process ended before the tests finished
    OUTPUT_LIMIT = "output_limit"  # error: wrote past the file-size limit (stdout included)
    MEMORY_LIMIT = "memory_limit"  # error: ran out of the address-space limit
    WALL_TIME = "wall_time"  # timeout: wall-clock limit
    CPU_TIME = "cpu_time"  # timeout: CPU-time limit
    NO_TESTS = "no_tests"  # not_executable: the source names no tests (imports, lanes without)
    TASK_WITHOUT_TESTS = "task_without_tests"  # not_executable: no test record for the task id
    NO_CODE = "no_code"  # not_executable: the response has no Python code
    NEEDS_REPOSITORY = "needs_repository"  # not_executable: a patch needs a checkout + containers
    MISSING_LIBRARY = "missing_library"  # not_executable: a module the code or tests import
    POLICY_OFF = "policy_off"  # not_executable: the policy's require_tests is `off` here


class Isolation(StrEnum):
    """How a run was contained.

    `bwrap`: bubblewrap namespaces (user, pid, network without interfaces, ipc, uts, mount), a
    read-only system, a private /tmp, the data dir hidden, plus the limits. `limits`: resource
    limits, a scrubbed environment and a fresh working directory only (no file-system or network
    isolation): weaker, and recorded as such. `none`: nothing ran.
    """

    BWRAP = "bwrap"
    LIMITS = "limits"
    NONE = "none"


class ExecutedRecord(VerdictColumns):
    """One row per dedup survivor: its code run against its task's tests, and what was observed."""

    source_benchmark: Series[str] = pa.Field(description="Benchmark family of the row.")
    harness: Series[str] = pa.Field(
        nullable=True, description="Harness that ran the tests (humaneval, evalplus, ...)."
    )
    require_tests: Series[str] = pa.Field(
        isin=["pass", "record", "off"], description="The policy's require_tests for the family."
    )
    execution_status: Series[str] = pa.Field(
        isin=values(ExecutionStatus), description="passed, failed, error, timeout, not_executable."
    )
    execution_reason: Series[str] = pa.Field(
        nullable=True,
        isin=values(ExecutionReason),
        description="Why it did not pass or was not run; empty when passed.",
    )
    execution_detail: Series[str] = pa.Field(
        nullable=True,
        description="The first failing test and its message, the missing modules, the signal...",
    )
    tests_passed: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Tests that passed, where the harness counts them."
    )
    tests_total: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Tests the harness ran or meant to run."
    )
    duration_s: Series[float] = pa.Field(
        nullable=True, ge=0, description="Wall seconds of the sandboxed run (empty: not run)."
    )
    peak_memory_kb: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        ge=0,
        description="Peak resident memory the driver saw (the code's process or a child), KiB.",
    )
    exit_code: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, description="Exit code, or minus the signal number that ended the run."
    )
    stderr_tail: Series[str] = pa.Field(
        nullable=True, description="The last bytes of the run's stderr (UTF-8, replaced)."
    )
    isolation: Series[str] = pa.Field(
        isin=values(Isolation), description="bwrap (namespaces + limits), limits only, or none."
    )
    interpreter: Series[str] = pa.Field(
        nullable=True, description="The Python that ran the code (implementation and version)."
    )
    library_versions: Series[str] = pa.Field(
        nullable=True,
        description="JSON object: the third-party modules the code and tests import -> version.",
    )
    test_command: Series[str] = pa.Field(
        nullable=True, description="What ran, in words (`check(has_close_elements)`...)."
    )
    code_sha256: Series[str] = pa.Field(
        nullable=True, str_matches=SHA256_HEX, description="SHA-256 of the code that ran."
    )
    tests_sha256: Series[str] = pa.Field(
        nullable=True, str_matches=SHA256_HEX, description="SHA-256 of the harness + test record."
    )
    environment_sha256: Series[str] = pa.Field(
        str_matches=SHA256_HEX,
        description="SHA-256 of interpreter, installed libraries, limits, isolation and harness.",
    )
    is_cached: Series[bool] = pa.Field(
        description="The result came from the cache (same code, tests and environment)."
    )
    score_factor: Series[float] = pa.Field(
        in_range={"min_value": 0.0, "max_value": 1.0},
        description="Multiplies curation_score in the release (< 1 when a soft policy failed it).",
    )
    is_gated_out: Series[bool] = pa.Field(
        description="The policy requires passing tests (hard) and the row did not pass."
    )

    @pa.dataframe_check
    @classmethod
    @reads("execution_status", "execution_reason")
    def only_passed_rows_lack_a_reason(cls, df: pd.DataFrame) -> pd.Series:
        """A row that did not pass names why; a passed row names nothing."""
        passed = df["execution_status"] == ExecutionStatus.PASSED.value
        return passed == df["execution_reason"].isna()
