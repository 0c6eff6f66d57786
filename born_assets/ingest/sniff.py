"""`born sniff`: which trace formats a file of unknown shape fits, and the spec lines to use.

The first records of the file are read as an ingest reads them (`readers`), then every format is
tried on them, with the options and field places its records suggest: message-list keys for
OpenAI lists, string-pair keys for `prompt_response`, both templates for rendered strings, and so
on. Each try counts the records it adapts and keeps the first refusal. Nothing here is used at
build time: the spec must name its format, and the build never guesses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from born_assets.ingest.jsonl import parse_object
from born_assets.ingest.quarantine import RejectedLine
from born_assets.ingest.readers import iter_records
from born_assets.traces.atropos import Selection
from born_assets.traces.chat_template import Template
from born_assets.traces.conversation import TraceExample
from born_assets.traces.fields import AdapterSpec, FormatMismatch
from born_assets.traces.registry import FORMATS

_TEXT_PAIRS = (
    ("prompt", "response"),
    ("prompt", "completion"),
    ("instruction", "output"),
    ("question", "answer"),
    ("input", "output"),
    ("query", "response"),
)
_ID_KEYS = ("id", "task_id", "instance_id", "source_path", "uuid", "example_id")
_TIME_KEYS = ("timestamp", "created", "created_at", "generation_timestamp", "time")
_REWARD_KEYS = ("reward", "score")
_TEMPLATE_MARKERS = {Template.CHATML: "<|im_start|>", Template.LLAMA3: "<|start_header_id|>"}


@dataclass(frozen=True)
class Candidate:
    """One way to read the file: a format with its fields and options as spec YAML values."""

    format: str
    fields: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)

    def adapter_spec(self) -> AdapterSpec:
        """The adapter's view of this candidate."""
        model = FORMATS[self.format].options
        options = model.model_validate(self.options) if model is not None else None
        return AdapterSpec(**self.fields, options=options)

    def spec_lines(self) -> list[str]:
        """The import-spec lines that select this reading."""
        lines = [f"format: {self.format}"]
        for title, values in (("options", self.options), ("fields", self.fields)):
            if values:
                lines.append(f"{title}:")
                lines.extend(f"  {key}: {value}" for key, value in sorted(values.items()))
        return lines


@dataclass
class Outcome:
    """How one candidate fared on the records read."""

    candidate: Candidate
    adapted: int = 0
    refused: int = 0
    first_refusal: str | None = None
    tools: int = 0
    models: set[str] = field(default_factory=set)
    with_time: int = 0


@dataclass
class SniffReport:
    """The records read and every candidate's outcome, best first."""

    path: Path
    records: int
    unreadable: list[str]
    outcomes: list[Outcome]
    id_keys: list[str]
    reward_keys: list[str]


def sniff(path: Path, limit: int = 20) -> SniffReport:
    """Try every format on the first `limit` records of `path`."""
    records: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for line in iter_records(path):
        if len(records) + len(unreadable) >= limit:
            break
        if line.unreadable is not None:
            unreadable.append(f"record {line.number}: {line.unreadable.message}")
            continue
        try:
            records.append(parse_object(line.raw))
        except RejectedLine as refused:
            unreadable.append(f"record {line.number}: {refused.rejection.message}")
    outcomes = [_try(candidate, records) for candidate in _candidates(records)]
    outcomes.sort(key=lambda o: (-o.adapted, o.refused))
    read = len(records) + len(unreadable)
    return SniffReport(
        path,
        read,
        unreadable,
        outcomes,
        _keys_in_all(records, _ID_KEYS),
        _keys_in_all(records, _REWARD_KEYS),
    )


def _keys_in_all(records: list[dict[str, Any]], keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if records and all(key in record for record in records)]


def _candidates(records: list[dict[str, Any]]) -> Iterator[Candidate]:
    """Every reading worth trying, the most specific formats first (they win a tie)."""
    keys = {key for record in records for key in record}
    yield Candidate("openai_chat_exchange")
    yield Candidate("anthropic_messages")
    yield Candidate("swe_agent_trajectory")
    yield Candidate("scored_rollout_group", options={"select": Selection.BEST_SCORE.value})
    yield Candidate("atropos_rollout")
    yield Candidate("llamafactory_blocks")
    yield Candidate("prompt_completion")
    for template, marker in _TEMPLATE_MARKERS.items():
        for key in sorted(k for k in keys if _mentions(records, k, marker)):
            fields = {} if key == "text" else {"messages_field": key}
            yield Candidate("chat_template", fields, {"template": template.value})
    yield Candidate("sharegpt")
    for key in sorted(k for k in keys if _holds_messages(records, k)):
        yield Candidate("openai_chat", {} if key == "messages" else {"messages_field": key})
    for prompt, response in _TEXT_PAIRS:
        if {prompt, response} <= keys:
            yield Candidate("prompt_response", {"prompt_field": prompt, "response_field": response})


def _holds_messages(records: list[dict[str, Any]], key: str) -> bool:
    value = next((r[key] for r in records if key in r), None)
    return (
        isinstance(value, list)
        and bool(value)
        and isinstance(value[0], dict)
        and "role" in value[0]
    )


def _mentions(records: list[dict[str, Any]], key: str, marker: str) -> bool:
    return any(isinstance(r.get(key), str) and marker in r[key] for r in records)


def _try(candidate: Candidate, records: list[dict[str, Any]]) -> Outcome:
    outcome = Outcome(candidate)
    spec = candidate.adapter_spec()
    adapt = FORMATS[candidate.format].adapt
    for index, record in enumerate(records, start=1):
        try:
            example = adapt(record, spec)
        except (FormatMismatch, ValueError) as error:
            outcome.refused += 1
            if outcome.first_refusal is None:
                outcome.first_refusal = f"record {index}: {error}"
            continue
        _count(outcome, example)
    return outcome


def _count(outcome: Outcome, example: TraceExample) -> None:
    outcome.adapted += 1
    outcome.tools += bool(example.tools)
    outcome.with_time += example.timestamp is not None
    if example.model:
        outcome.models.add(example.model)


def format_report(report: SniffReport) -> str:
    """The report as text: a table of candidates, then the spec lines of the best one."""
    lines = [f"{report.path}: {report.records} record(s) read"]
    lines += [f"  unreadable {problem}" for problem in report.unreadable]
    lines.append("")
    lines.append(f"{'adapted':>7}  {'refused':>7}  reading")
    for outcome in report.outcomes:
        reading = " ".join(outcome.candidate.spec_lines()).replace("  ", " ")
        lines.append(f"{outcome.adapted:>7}  {outcome.refused:>7}  {reading}")
    best = report.outcomes[0] if report.outcomes and report.outcomes[0].adapted else None
    if best is None:
        lines += ["", "no format adapts these records; the refusals say which field does not fit:"]
        lines += [f"  {o.candidate.format}: {o.first_refusal}" for o in report.outcomes]
        return "\n".join(lines)
    lines += ["", f"best reading ({best.adapted} of {report.records}); spec lines to paste:", ""]
    lines += _spec_lines(best, report)
    if best.first_refusal:
        lines += ["", f"first refusal of this reading: {best.first_refusal}"]
    return "\n".join(lines)


def _spec_lines(best: Outcome, report: SniffReport) -> list[str]:
    lines = best.candidate.spec_lines()
    extra = [f"  {key}: {value}" for key, value in _suggested_fields(best, report)]
    if extra:
        if "fields:" not in lines:
            lines.append("fields:")
        at = lines.index("fields:") + 1
        lines[at:at] = extra
    if not best.with_time:
        hint = ", ".join(_TIME_KEYS)
        lines += [
            "# the records carry no time this reading finds: declare when they were made,",
            f"# or set fields.timestamp_field (keys often used: {hint})",
            "generated_at: {from: YYYY-MM-DD, to: YYYY-MM-DD}",
        ]
    models = ", ".join(sorted(best.models)) or "none named (set generator.model if synthetic)"
    lines.append(f"# models in the records: {models}; records declaring tools: {best.tools}")
    return lines


def _suggested_fields(best: Outcome, report: SniffReport) -> list[tuple[str, str]]:
    found = []
    if report.id_keys and "id_field" not in best.candidate.fields:
        found.append(("id_field", report.id_keys[0]))
    if report.reward_keys and best.candidate.format != "scored_rollout_group":
        found.append(("reward_field", report.reward_keys[0]))
    return found
