"""Structural, format and length gates: measure each response, then decide against the policy.

`evaluate_gates(batch, policy)` (or `GateEvaluator(policy).evaluate(batch)`, to reuse the compiled
policy across a stream of batches) takes rows with `example_id, benchmark_family, prompt,
response` (and `messages`, `tools` when the rows have them) and returns one narrow row per example
(`GATES_SCHEMA`): the measurement columns, then for each gate `is_<gate>_ok`, `<gate>_reason` (a
`GateReason`) and `<gate>_threshold` (the policy key and value that decided), then the fate:
`is_gated_out` with `gated_out_gate`, `gated_out_reason` and `gated_out_threshold`, the row's
first *hard* reason in `GateReason` order. *Soft* reasons only lower `curation_score`
(`soft_failure_count` counts one per failing check, e.g. two empty required sections count twice;
`soft_failure_reasons` lists them, comma-joined).

Each row is judged by what it is (`row_kind`: `tool_use` when its messages hold a tool call or
result or it declares tools, `code_task` for the families `gates.kinds.code_task` names, else
`chat`): the kind sets its required sections, length bounds and severities (see
`specs.curation_policy`).

What is measured (the closure format, as read by `closure_scan`: `## Plan`, `## Code` or `## Patch`,
`## Checks`, `## Result`; a section holding only `_Not present in the source._` is empty):

- structural: each of the kind's `required_sections` is present and non-empty (`code` means
  `## Code` or `## Patch`); every code fence is closed before the next section header
  (`unbalanced_code_fence`; a fence still open at the very end is `truncated_in_code_fence`
  instead, not counted twice); each closed block whose language tag is in `python_languages`,
  or that is untagged in `## Code` when the family is in `python_families`, passes `ast.parse`
  (dedented, for body-only snippets). Parsing costs a few MB/s a core, by far the most
  expensive check, so it is skipped when a hard reason already fired (`python_blocks_checked`
  is then null; `python_syntax_error` is last in the precedence, so the reported fate is the
  same), taken from the optional `fence_parses` column when the closure rewrite already parsed
  the block (`closure_scan.fence_parse_record`), and memoised within a batch.
- format: the four sections, each once, in order, nothing but blanks before them; no match of a
  `placeholder_patterns` regex in the texts it targets (`prompt`, `response_prose` = the
  response outside code fences, `response`); no `refusal_phrases` in the response prose
  (case-insensitive, curly apostrophes folded); not cut off: `truncated_in_code_fence` when
  the response ends inside an open fence, `truncated_at_limit` when its last non-blank
  character is not in `truncation.terminal_chars` and it sits at a limit, that is
  `response_chars >= max_response_chars - max_chars_margin` or `response_tokens_approx` within
  `token_limit_tolerance` (relative) of one of `token_limits`.
- length: `prompt_chars`, `response_chars` (Unicode code points) and `*_tokens_approx`
  (`ceil(utf8_bytes / 4)`: near BPE tokenizers for English and code, high for compact scripts)
  against `gates.length.<benchmark_family>`, then `gates.kinds.<kind>.length`, with
  `gates.length.default` for unset keys.
- tool_use: the conversation's tool-use structure (`curation.tool_use`): every call names a
  declared tool, its arguments are a JSON object valid against the tool's schema, every result
  answers a call, and no call is left unanswered before the last assistant message.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from born_assets.curation.dedup import response_fingerprint
from born_assets.curation.gate_rules import FamilyRules, GateRules
from born_assets.curation.tool_use import ToolUseMeasures, ToolUseMeter
from born_assets.schemas.curation import GateVerdictRecord
from born_assets.schemas.derive import arrow_schema
from born_assets.schemas.reasons import GateName, GateReason
from born_assets.schemas.vocabulary import RowKind
from born_assets.specs.curation_policy import ScanTarget
from born_assets.specs.policy import Policy
from born_assets.text.closure import (
    FAILS,
    PARSES,
    SECTION_CHECKS,
    SECTION_CODE,
    SECTION_PATCH,
    SECTION_PLAN,
    SECTION_RESULT,
    ClosureScan,
    CodeBlock,
    Section,
    closure_sections,
    last_visible,
    prose_text,
    python_parses,
    scan_closure,
)

GATES_SCHEMA = arrow_schema(GateVerdictRecord)
"""The output of the gates: measurements, then per-gate verdicts, then the fate."""

_Failure = tuple[GateReason, str]
_REASON_RANK = {reason: rank for rank, reason in enumerate(GateReason)}
_FORMAT_RULE = (
    f"sections exactly {SECTION_PLAN}, {SECTION_CODE}|{SECTION_PATCH}, {SECTION_CHECKS}, "
    f"{SECTION_RESULT}, nothing before"
)
_FENCE_RULE = "every code fence closed before the next section header"
_OPEN_FENCE_RULE = "response ends inside an unterminated code fence"
_PYTHON_RULE = "ast.parse accepts gates.structural.python_languages/python_families blocks"
_TOOL_RULES = (
    ("undeclared", GateReason.UNDECLARED_TOOL, "every call names a tool the row declares"),
    ("not_json", GateReason.TOOL_ARGUMENTS_NOT_JSON, "every call's arguments are a JSON object"),
    (
        "invalid",
        GateReason.TOOL_ARGUMENTS_INVALID,
        "arguments validate against the tool's JSON Schema (gates.tool_use.validate_arguments)",
    ),
    ("orphans", GateReason.ORPHAN_TOOL_RESULT, "every tool result answers an earlier call"),
    (
        "unanswered",
        GateReason.UNANSWERED_TOOL_CALL,
        "every call is answered, unless it is in the last assistant message",
    ),
)


class GateEvaluator:
    """The gates compiled from one policy; `evaluate` runs them on a batch."""

    def __init__(self, policy: Policy) -> None:
        self._rules = GateRules(policy)
        tool_use = policy.gates.tool_use
        self._meter = ToolUseMeter(tool_use.require_declared_tools, tool_use.validate_arguments)

    def evaluate(self, batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]) -> pa.Table:
        """Measure and judge every row of `batch`.

        Args:
            batch: Rows with `example_id, benchmark_family, prompt, response` and optionally
                `fence_parses` (other columns are ignored); a null prompt or response counts as
                empty text.

        Returns:
            One row per input row, in input order, with the columns of `GATES_SCHEMA`.
        """
        table = _as_table(batch)
        prompt, response = _text_column(table, "prompt"), _text_column(table, "response")
        inputs = zip(
            table.column("example_id").to_pylist(),
            table.column("benchmark_family").to_pylist(),
            prompt.to_pylist(),
            response.to_pylist(),
            pc.utf8_length(prompt).to_pylist(),
            pc.binary_length(prompt).to_pylist(),
            pc.utf8_length(response).to_pylist(),
            pc.binary_length(response).to_pylist(),
            _optional(table, "fence_parses"),
            _optional(table, "messages"),
            _optional(table, "tools"),
            strict=True,
        )
        memo: dict[str, bool] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            rows = [self._row(values, memo) for values in inputs]
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(GATES_SCHEMA)
        arrays = [pa.array(c, type=f.type) for c, f in zip(columns, GATES_SCHEMA, strict=True)]
        return pa.Table.from_arrays(arrays, schema=GATES_SCHEMA)

    def _row(self, values: tuple[Any, ...], memo: dict[str, bool]) -> tuple[Any, ...]:
        """Measurements then verdicts of one row (`values` as zipped in `evaluate`)."""
        example_id, family, prompt, response, p_chars, p_bytes, r_chars, r_bytes, known = values[:9]
        messages, tools = values[9:]
        tool_use = self._meter.measure(messages, tools)
        kind = self._rules.kind_of(family, tool_use.uses_tools or bool(tools))
        rules = self._rules.family(family, kind)
        hard = self._rules.hard[kind]
        text = response or ""
        p_tokens, r_tokens = ((p_bytes or 0) + 3) // 4, ((r_bytes or 0) + 3) // 4
        measures = (p_chars or 0, p_tokens, r_chars or 0, r_tokens)
        scan = scan_closure(text)
        has, is_patch, is_closure = closure_sections(text, scan)
        fails = self._structure(has, scan, kind)
        if not is_closure:
            fails.append((GateReason.NOT_CLOSURE_FORMAT, _FORMAT_RULE))
        prose = prose_text(text, scan.code_spans)
        refusal = self._refusal(prose, fails)
        placeholder = self._placeholder(prompt or "", prose, text, fails)
        terminal = last_visible(text) in self._rules.terminal
        truncated = self._truncation(scan, terminal, rules, measures, fails)
        fails.extend(self._lengths(rules, measures))
        fails.extend(_tool_failures(tool_use))
        checked = errors = None
        if not any(hard[reason] for reason, _ in fails):
            checked, errors = self._python(text, scan, rules.is_python, (known or "", memo))
            if errors:
                fails.append((GateReason.PYTHON_SYNTAX_ERROR, _PYTHON_RULE))
        sections = (has[Section.PLAN], has[Section.CODE], has[Section.CHECKS], has[Section.RESULT])
        return (
            example_id,
            *measures,
            *map(bool, sections),
            is_patch,
            is_closure,
            scan.fence_count,
            scan.has_unbalanced_fence,
            scan.ends_in_open_fence,
            terminal,
            truncated,
            refusal,
            placeholder,
            checked,
            errors,
            None if response is None else response_fingerprint(response),
            kind.value,
            tool_use.calls,
            tool_use.results,
            tool_use.undeclared,
            tool_use.not_json,
            tool_use.invalid,
            tool_use.orphans,
            tool_use.unanswered,
            *self._decide(fails, hard),
        )

    def _structure(
        self, has: Mapping[Section, bool | None], scan: ClosureScan, kind: RowKind
    ) -> list[_Failure]:
        fails: list[_Failure] = []
        for section in self._rules.required[kind]:
            rule = f"gates.kinds.{kind.value}.required_sections includes {section.value}"
            if has[section] is None:
                fails.append((GateReason.MISSING_SECTION, rule))
            elif not has[section]:
                fails.append((GateReason.EMPTY_SECTION, f"{rule} (not empty, not absent marker)"))
        if scan.has_unbalanced_fence:
            fails.append((GateReason.UNBALANCED_CODE_FENCE, _FENCE_RULE))
        return fails

    def _refusal(self, prose: str, fails: list[_Failure]) -> int | None:
        folded = prose.lower()
        if "\u2019" in folded:
            folded = folded.replace("\u2019", "'")
        for index, phrase, rule in self._rules.refusals:
            if phrase in folded:
                fails.append((GateReason.REFUSAL, rule))
                return index
        return None

    def _placeholder(self, prompt: str, prose: str, text: str, fails: list[_Failure]) -> int | None:
        texts = {ScanTarget.PROMPT: prompt, ScanTarget.RESPONSE_PROSE: prose}
        for index, pattern, targets, rule in self._rules.placeholders:
            if any(pattern.search(texts.get(target, text)) for target in targets):
                fails.append((GateReason.TEMPLATE_PLACEHOLDER, rule))
                return index
        return None

    def _truncation(
        self,
        scan: ClosureScan,
        terminal: bool,
        rules: FamilyRules,
        measures: tuple[int, int, int, int],
        fails: list[_Failure],
    ) -> bool:
        if scan.ends_in_open_fence:
            fails.append((GateReason.TRUNCATED_IN_CODE_FENCE, _OPEN_FENCE_RULE))
            return True
        if terminal or measures[2] == 0:
            return False
        rule = rules.truncation_rule if measures[2] >= rules.truncation_chars else None
        if rule is None:
            rule = next(
                (r for lo, hi, r in self._rules.token_windows if lo <= measures[3] <= hi), None
            )
        if rule is not None:
            fails.append((GateReason.TRUNCATED_AT_LIMIT, rule))
        return rule is not None

    @staticmethod
    def _lengths(rules: FamilyRules, measures: tuple[int, int, int, int]) -> list[_Failure]:
        return [
            (reason, rule)
            for reason, measure, is_min, limit, rule in rules.limits
            if (measures[measure] < limit if is_min else measures[measure] > limit)
        ]

    def _python(
        self, text: str, scan: ClosureScan, is_python: bool, known: tuple[str, dict[str, bool]]
    ) -> tuple[int, int]:
        """(blocks checked, blocks ast.parse rejects); `known` = (fence_parses, batch memo)."""
        record, memo = known
        checked = errors = 0
        for index, block in self._python_fences(scan, is_python):
            outcome = record[index : index + 1]
            if outcome in (PARSES, FAILS):
                ok = outcome == PARSES
            else:
                code = text[block.start : block.end]
                if code not in memo:
                    memo[code] = python_parses(code)
                ok = memo[code]
            checked += 1
            errors += not ok
        return checked, errors

    def _python_fences(self, scan: ClosureScan, is_python: bool) -> list[tuple[int, CodeBlock]]:
        """(index, block) of each closed fence the syntax check parses."""
        return [
            (index, block)
            for index, block in enumerate(scan.blocks)
            if block.language in self._rules.python_languages
            or (is_python and not block.language and block.header == SECTION_CODE)
        ]

    def python_blocks(self, family: str, kind: RowKind, text: str) -> list[str]:
        """The code of every block of `text` the syntax check parses, for a row of that kind."""
        scan = scan_closure(text)
        fences = self._python_fences(scan, self._rules.family(family, kind).is_python)
        return [text[block.start : block.end] for _, block in fences]

    @staticmethod
    def _decide(fails: list[_Failure], hard: Mapping[GateReason, bool]) -> tuple[Any, ...]:
        """Per gate its first hard (else first soft) reason; then the row's first hard reason."""
        chosen: dict[GateName, _Failure] = {}
        soft: list[str] = []
        gated: _Failure | None = None
        for reason, rule in sorted(fails, key=lambda fail: _REASON_RANK[fail[0]]):
            is_hard = hard[reason]
            if not is_hard:
                soft.append(reason.value)
            elif gated is None:
                gated = (reason, rule)
            current = chosen.get(reason.gate)
            if current is None or (is_hard and not hard[current[0]]):
                chosen[reason.gate] = (reason, rule)
        verdicts: list[Any] = []
        for gate in GateName:
            failure = chosen.get(gate)
            verdicts += [True, None, None] if failure is None else [False, *_text(failure)]
        reasons = ",".join(soft)
        if gated is None:
            return (*verdicts, len(soft), reasons, False, None, None, None)
        return (*verdicts, len(soft), reasons, True, gated[0].gate.value, *_text(gated))


def _text(failure: _Failure) -> tuple[str, str]:
    return failure[0].value, failure[1]


def _tool_failures(measures: ToolUseMeasures) -> list[_Failure]:
    """One failure per broken call or result (each reason counts as often as it fires)."""
    return [
        (reason, f"gates.tool_use: {rule}")
        for attribute, reason, rule in _TOOL_RULES
        for _ in range(getattr(measures, attribute))
    ]


def _optional(table: pa.Table, name: str) -> list[Any]:
    if name in table.column_names:
        return table.column(name).to_pylist()
    return [None] * table.num_rows


_OPTIONAL_INPUTS = ("fence_parses", "messages", "tools")


def _as_table(batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]) -> pa.Table:
    columns = ("example_id", "benchmark_family", "prompt", "response")
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    if not isinstance(batch, pa.Table):
        optional = [name for name in _OPTIONAL_INPUTS if batch and name in batch[0]]
        return pa.table({name: [row[name] for row in batch] for name in (*columns, *optional)})
    missing = [name for name in columns if name not in batch.column_names]
    if missing:
        raise KeyError(f"gates input lacks columns {missing}")
    return batch


def _text_column(table: pa.Table, name: str) -> pa.ChunkedArray:
    column = table.column(name)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return column.cast(pa.large_string())


def evaluate_gates(
    batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]], policy: Policy
) -> pa.Table:
    """Run the structural, format and length gates on one batch (see `GateEvaluator`)."""
    return GateEvaluator(policy).evaluate(batch)
