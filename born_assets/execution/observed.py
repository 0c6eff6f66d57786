"""What a released lane row's closure says was observed: the task's tests run on its code.

The release joins each row's `executed` result and calls `annotate` on its batches: for a row
whose lane names tests, the Checks section ends with what ran (the harness's command, the
isolation, the interpreter) and the Result section with what it showed (status, tests passed of
total, the first failure). It is labelled as this pipeline's observation, never as the source's.
Nothing in it changes from run to run: not the run time, not a memory address in a failure, so
that a release cut again from the same inputs on a cold cache has the same bytes.
"""

from __future__ import annotations

import re
from typing import Any

import pyarrow as pa

from born_assets.schemas.execution import ExecutionStatus
from born_assets.text.closure import append_observed

OBSERVED_COLUMNS = {
    "observed_harness": "x.harness",
    "observed_command": "x.test_command",
    "observed_reason": "x.execution_reason",
    "observed_detail": "x.execution_detail",
    "observed_isolation": "x.isolation",
    "observed_interpreter": "x.interpreter",
}
"""Extra columns (name -> SQL over the `executed` table aliased `x`) that `annotate` reads."""
DETAIL_CHARS = 300
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
"""A memory address in a failure (`<object at 0x7f3a...>`): another on every run."""


def observed_sql() -> str:
    """The SELECT items of `OBSERVED_COLUMNS`."""
    return ", ".join(f"{sql} AS {name}" for name, sql in OBSERVED_COLUMNS.items())


def observed_sections(row: dict[str, Any]) -> tuple[str, str] | None:
    """(Checks text, Result text) for one row with its result columns; None when it has none."""
    if row["origin_kind"] != "lane" or row["observed_harness"] is None:
        return None
    status = row["execution_status"]
    if status == ExecutionStatus.NOT_EXECUTABLE.value:
        checks = (
            f"Observed by this pipeline: the task's {row['observed_harness']} tests were not run "
            f"({row['observed_reason']})."
        )
        return checks, f"Observed: not run: {_short(row['observed_detail'])}"
    checks = (
        f"Observed by this pipeline: ran {row['observed_command']} ({row['observed_harness']} "
        f"harness) on the code above, in a {row['observed_isolation']} sandbox "
        f"({row['observed_interpreter']})."
    )
    counts = (
        f", {row['tests_passed']}/{row['tests_total']} tests passed"
        if row["tests_total"] is not None
        else ""
    )
    result = f"Observed: {status}{counts}"  # no run time: the same inputs give the same text
    if status != ExecutionStatus.PASSED.value:
        result += f" ({row['observed_reason']}: {_short(row['observed_detail'])})"
    return checks, result + "."


def _short(text: str | None) -> str:
    flat = _ADDRESS.sub("0x…", " ".join((text or "").split()))
    return flat if len(flat) <= DETAIL_CHARS else flat[: DETAIL_CHARS - 1] + "…"


def annotate(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with observed outcomes in each response, cut to `schema`'s columns (uncast)."""
    rows = batch.select(["origin_kind", "response", "execution_status", "tests_passed",
                         "tests_total", *OBSERVED_COLUMNS]).to_pylist()  # fmt: skip
    responses = []
    for row in rows:
        sections = observed_sections(row)
        text = row["response"]
        responses.append(append_observed(text, *sections) if sections else text)
    columns = [
        pa.array(responses, pa.string()) if name == "response" else batch.column(name)
        for name in schema.names
    ]
    return pa.RecordBatch.from_arrays(columns, names=schema.names)
