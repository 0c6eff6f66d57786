"""Generate a lane's missing responses: plan from the manifest, call the teacher, write rows.

Producing a row and recording its lineage are one step: each usable answer is appended to
`<output.path>/generated-<run_label>.jsonl` with its full lineage record the moment it arrives
(flushed and fsynced), and every attempt, good or bad, to the lane's attempts ledger
(`DataDir.attempts`). A failed attempt (timeout, malformed JSON, no
choices, empty content, missing closure sections...) is never a row; it is retried, in this run
or the next, until the task has `max_attempts` failures. A run reads the generated files and the
ledger first, so a crash costs at most the requests in flight and no task is generated twice for
the same generation key.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from born_assets.generation.attempts import (
    GENERATED_PREFIX,
    JsonlAppender,
    done_keys,
    failed_attempts,
    lane_lock,
    ledger_path,
)
from born_assets.generation.client import AttemptError, ChatClient, Completion, EndpointError
from born_assets.generation.plan import GenerationPlan
from born_assets.generation.records import AttemptEntry, check_sections, generated_row
from born_assets.generation.tasks import GenerationConfigError, Task
from born_assets.layout import DataDir
from born_assets.schemas.identity import prompt_hash
from born_assets.text.closure import Section

_LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class GenerationSummary:
    """What one run did; the counts reconcile: tasks = done before + written + given up + left."""

    rows_file: Path
    ledger_file: Path
    tasks: int = 0
    already_done: int = 0
    rows_written: int = 0
    given_up: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    torn_bytes_removed: int = 0

    def as_metadata(self, data: DataDir) -> dict[str, Any]:
        """Plain values for materialization metadata (paths relative to the data dir)."""
        return {
            "generation_tasks": self.tasks,
            "generation_already_done": self.already_done,
            "generation_rows_written": self.rows_written,
            "generation_given_up": self.given_up,
            "generation_failed_attempts": dict(sorted(self.failures.items())),
            "generation_rows_file": data.relative(self.rows_file),
            "generation_ledger": data.relative(self.ledger_file),
        }


@dataclass(frozen=True)
class _Job:
    task: Task
    key: str
    attempt: int


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    entry: AttemptEntry
    completion: Completion | None
    error: AttemptError | None


def _attempt(
    plan: GenerationPlan, client: ChatClient, job: _Job, required: Sequence[Section]
) -> _Outcome:
    started, clock = datetime.now(UTC), time.monotonic()
    completion: Completion | None = None
    error: AttemptError | None = None
    try:
        completion = client.complete(
            plan.context.request_model, job.task.prompt, plan.context.params
        )
        check_sections(completion, required)
    except AttemptError as failure:
        error = failure
        if completion is not None:  # a usable exchange whose answer failed validation
            error.client_request_id = completion.client_request_id
            error.http_retries = completion.http_retries
    entry = AttemptEntry(
        key=job.key,
        task_id=job.task.task_id,
        attempt=job.attempt,
        prompt_sha256=prompt_hash(job.task.prompt),
        started_at=started,
        finished_at=datetime.now(UTC),
        latency_ms=round((time.monotonic() - clock) * 1000),
    )
    return _Outcome(job, entry, completion if error is None else None, error)


def _rows_path(plan: GenerationPlan, run_label: str) -> Path:
    if not _LABEL.match(run_label):
        raise GenerationConfigError(f"run label {run_label!r}: use letters, digits, _ . -")
    name = f"{GENERATED_PREFIX}{run_label}.jsonl"
    folder, _, pattern = plan.loaded.manifest.output.glob.rpartition("/")
    if folder not in ("", "**") or not fnmatch(name, pattern):
        raise GenerationConfigError(
            f"output.glob: {plan.loaded.manifest.output.glob!r} would not read {name}"
        )
    return plan.lane_dir / name


class _Run:
    """One generation run: the job feed, the writers and the counters."""

    def __init__(
        self,
        plan: GenerationPlan,
        rows: JsonlAppender,
        ledger: JsonlAppender,
        summary: GenerationSummary,
    ) -> None:
        self.plan = plan
        self.rows = rows
        self.ledger = ledger
        self.summary = summary
        self.retries: deque[_Job] = deque()
        self._feed = self._fresh_jobs()

    def _fresh_jobs(self) -> Iterator[_Job]:
        done = done_keys(self.plan.lane_dir)
        failures = failed_attempts(self.ledger.path)
        for task in self.plan.tasks():
            self.summary.tasks += 1
            key = self.plan.key(task.task_id)
            if key in done:
                self.summary.already_done += 1
            elif failures[key] >= self.plan.max_attempts:
                self.summary.given_up += 1
            else:
                yield _Job(task, key, failures[key] + 1)

    def next_job(self) -> _Job | None:
        """A retry first, else the next task not done yet, else None."""
        return self.retries.popleft() if self.retries else next(self._feed, None)

    def record(self, outcome: _Outcome) -> None:
        """Write the row (if any) and the ledger entry; queue a retry while attempts remain."""
        job, entry = outcome.job, outcome.entry
        if outcome.completion is not None:
            row = generated_row(
                self.plan.context,
                task_id=job.task.task_id,
                prompt=job.task.prompt,
                key=job.key,
                completion=outcome.completion,
                attempt=job.attempt,
                generated_at=entry.finished_at,
            )
            self.rows.append(row)
            rows_file = self.plan.data.relative(self.rows.path)
            self.ledger.append(entry.ok(outcome.completion, rows_file))
            self.summary.rows_written += 1
            return
        assert outcome.error is not None
        self.ledger.append(entry.failed(outcome.error))
        self.summary.failures[outcome.error.reason.value] += 1
        if job.attempt >= self.plan.max_attempts:
            self.summary.given_up += 1
        else:
            self.retries.append(replace(job, attempt=job.attempt + 1))


def _drive(run: _Run, client: ChatClient, required: Sequence[Section]) -> None:
    """Keep `concurrency` attempts in flight; on `EndpointError`, finish those, then raise."""
    fatal: EndpointError | None = None
    in_flight: dict[Future[_Outcome], _Job] = {}
    with ThreadPoolExecutor(run.plan.concurrency, thread_name_prefix="born-gen") as pool:
        while True:
            while fatal is None and len(in_flight) < run.plan.concurrency:
                job = run.next_job()
                if job is None:
                    break
                in_flight[pool.submit(_attempt, run.plan, client, job, required)] = job
            if not in_flight:
                break
            finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in finished:
                del in_flight[future]
                try:
                    outcome = future.result()
                except EndpointError as error:
                    fatal = fatal or error
                    continue
                run.record(outcome)
    if fatal is not None:
        raise fatal


def generate_lane(
    plan: GenerationPlan,
    client: ChatClient,
    *,
    run_label: str | None = None,
    required_sections: Sequence[Section] = (Section.CODE,),
) -> GenerationSummary:
    """Generate a response for every task of the plan whose generation key has no row yet.

    Args:
        plan: From `plan_generation`.
        client: From `chat_client` (or any `ChatClient`).
        run_label: Names the output file `generated-<run_label>.jsonl`; default the UTC date.
        required_sections: Closure sections a response must hold (the policy's
            `gates.kinds.<kind>.required_sections` for the lane's family); one without them is
            a failed attempt.

    Returns:
        Counts of tasks done before, rows written, tasks given up, failures by reason.

    Raises:
        GenerationConfigError: The output file would not be read by the lane's glob.
        LaneBusyError: Another process is generating the lane.
        EndpointError: The endpoint refused with 401, 403 or 404 (after in-flight attempts end).
    """
    label = run_label or datetime.now(UTC).strftime("%Y%m%d")
    rows_path = _rows_path(plan, label)
    ledger = ledger_path(plan.data, plan.loaded.manifest.lane_id)
    summary = GenerationSummary(rows_path, ledger)
    with lane_lock(ledger), JsonlAppender(rows_path) as rows, JsonlAppender(ledger) as log:
        summary.torn_bytes_removed = rows.torn_bytes_removed + log.torn_bytes_removed
        _drive(_Run(plan, rows, log, summary), client, required_sections)
    return summary
