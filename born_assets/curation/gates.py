"""Structural, format and length gates: measure each response, then decide against the policy.

`evaluate_gates(batch, policy)` (or `GateEvaluator(policy).evaluate(batch)`, to reuse the compiled
policy across a stream of batches) takes rows with `example_id, benchmark_family, prompt,
response` and returns one narrow row per example (`GATES_SCHEMA`): the measurement columns, then
for each gate `is_<gate>_ok`, `<gate>_reason` (a `GateReason`) and `<gate>_threshold` (the policy
key and value that decided), then the fate: `is_gated_out` with `gated_out_gate`,
`gated_out_reason` and `gated_out_threshold`, the row's first *hard* reason in `GateReason` order.
*Soft* reasons only lower `curation_score` (`soft_failure_count` counts one per failing check,
e.g. two empty required sections count twice; `soft_failure_reasons` lists them, comma-joined).
Severities come from `gates.severity` and `gates.reason_severity`.

What is measured (the closure format: `## Plan`, `## Code` or `## Patch`, `## Checks`,
`## Result`; a section holding only `_Not present in the source._` is empty):

- structural: each of `gates.structural.required_sections` is present and non-empty (`code`
  means `## Code` or `## Patch`); every code fence is closed before the next section header
  (`unbalanced_code_fence`; a fence still open at the very end is `truncated_in_code_fence`
  instead, not counted twice); each closed block whose language tag is in `python_languages`,
  or that is untagged in `## Code` when the family is in `python_families`, passes `ast.parse`
  (retried dedented, for body-only snippets). Parsing costs a few MB/s a core, by far the most
  expensive check, so it is skipped when a hard reason already fired (`python_blocks_checked`
  is then null; `python_syntax_error` is last in the precedence, so the reported fate is the
  same) and memoised within a batch.
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
  against `gates.length.<benchmark_family>`, with `gates.length.default` for unset keys and
  unknown families.

Fences follow CommonMark: up to 3 spaces, then 3+ backticks or tildes; closed by a run of the
same character at least as long with nothing after it. Headers inside a closed fence are code;
a fence left open is ended by the next closure header (see `scan_closure`). The scan uses
`str.find` over the text (no per-line Python loop, no per-row regex compile).
"""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from born_assets.curation.dedup import response_fingerprint
from born_assets.schema_tools import arrow_schema
from born_assets.schemas import GateVerdictRecord

if TYPE_CHECKING:
    from born_assets.policy import Policy

ABSENT_MARKER = "_Not present in the source._"
"""Same string as `born_assets.sanitize.closure.ABSENT_MARKER` (not imported on purpose)."""


class GateName(StrEnum):
    """The gates; each `GateReason` belongs to one."""

    STRUCTURAL = "structural"
    FORMAT = "format"
    LENGTH = "length"


class GateReason(StrEnum):
    """Why a gate failed. Member order is the reporting precedence: root causes first.

    A refusal or a cut-off response explains its missing sections, not the other way round.
    """

    REFUSAL = "refusal"
    TRUNCATED_IN_CODE_FENCE = "truncated_in_code_fence"
    TEMPLATE_PLACEHOLDER = "template_placeholder"
    PROMPT_TOO_SHORT = "prompt_too_short"
    PROMPT_TOO_LONG = "prompt_too_long"
    RESPONSE_TOO_SHORT = "response_too_short"
    RESPONSE_TOO_LONG = "response_too_long"
    MISSING_SECTION = "missing_section"
    EMPTY_SECTION = "empty_section"
    NOT_CLOSURE_FORMAT = "not_closure_format"
    UNBALANCED_CODE_FENCE = "unbalanced_code_fence"
    TRUNCATED_AT_LIMIT = "truncated_at_limit"
    PYTHON_SYNTAX_ERROR = "python_syntax_error"

    @property
    def gate(self) -> GateName:
        """The gate this reason belongs to."""
        return _REASON_GATE[self]


_REASON_GATE = {
    GateReason.REFUSAL: GateName.FORMAT,
    GateReason.TRUNCATED_IN_CODE_FENCE: GateName.FORMAT,
    GateReason.TEMPLATE_PLACEHOLDER: GateName.FORMAT,
    GateReason.PROMPT_TOO_SHORT: GateName.LENGTH,
    GateReason.PROMPT_TOO_LONG: GateName.LENGTH,
    GateReason.RESPONSE_TOO_SHORT: GateName.LENGTH,
    GateReason.RESPONSE_TOO_LONG: GateName.LENGTH,
    GateReason.MISSING_SECTION: GateName.STRUCTURAL,
    GateReason.EMPTY_SECTION: GateName.STRUCTURAL,
    GateReason.NOT_CLOSURE_FORMAT: GateName.FORMAT,
    GateReason.UNBALANCED_CODE_FENCE: GateName.STRUCTURAL,
    GateReason.TRUNCATED_AT_LIMIT: GateName.FORMAT,
    GateReason.PYTHON_SYNTAX_ERROR: GateName.STRUCTURAL,
}
_REASON_RANK = {reason: rank for rank, reason in enumerate(GateReason)}


class Severity(StrEnum):
    """Hard reasons gate the row out; soft reasons only lower its curation_score."""

    HARD = "hard"
    SOFT = "soft"


class Section(StrEnum):
    """The closure sections (`code` stands for `## Code` or `## Patch`)."""

    PLAN = "plan"
    CODE = "code"
    CHECKS = "checks"
    RESULT = "result"


class ScanTarget(StrEnum):
    """The texts a placeholder pattern can be searched in."""

    PROMPT = "prompt"
    RESPONSE_PROSE = "response_prose"
    RESPONSE = "response"


_HEADERS = {
    "## Plan": Section.PLAN,
    "## Code": Section.CODE,
    "## Patch": Section.CODE,
    "## Checks": Section.CHECKS,
    "## Result": Section.RESULT,
}
_CLOSURE_ORDER = [Section.PLAN, Section.CODE, Section.CHECKS, Section.RESULT]


@dataclass(slots=True)
class CodeBlock:
    """A closed fenced block: language tag (lowercase, "" if none), section header, body span."""

    language: str
    header: str | None
    start: int
    end: int


@dataclass(slots=True)
class ClosureScan:
    """Where the closure headers and code fences of one response are."""

    headers: list[tuple[str, int, int]] = field(default_factory=list)
    """(header line, line start, body start) of each header outside code."""
    blocks: list[CodeBlock] = field(default_factory=list)
    code_spans: list[tuple[int, int]] = field(default_factory=list)
    """Fence to fence spans (open ones included): everything that is not prose."""
    fence_count: int = 0
    swallowed_headers: int = 0
    """Header lines read as code because a fence was open."""
    has_unbalanced_fence: bool = False
    ends_in_open_fence: bool = False


def _line_events(text: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped text) of the lines that may be a fence or a closure header."""
    found: dict[int, tuple[int, str]] = {}
    size = len(text)
    for token in ("```", "~~~"):
        pos = text.find(token)
        while pos != -1:
            start = pos
            while start > 0 and pos - start < 3 and text[start - 1] == " ":
                start -= 1
            if start == 0 or text[start - 1] == "\n":
                end = text.find("\n", pos)
                end = size if end == -1 else end
                found[start] = (end, text[start:end].strip())
                pos = text.find(token, end)
            else:
                pos = text.find(token, pos + 3)
    hit = text.find("\n## ")
    start = 0 if text.startswith("## ") else (hit + 1 if hit != -1 else -1)
    while start != -1:
        end = text.find("\n", start)
        end = size if end == -1 else end
        line = text[start:end].rstrip()
        if line in _HEADERS:
            found[start] = (end, line)
        hit = text.find("\n## ", end)
        start = hit + 1 if hit != -1 else -1
    return [(start, end, line) for start, (end, line) in sorted(found.items())]


def _walk(text: str, events: list[tuple[int, int, str]], recover: bool) -> ClosureScan | None:
    """Pair fences and place headers; None if a fence never closes and `recover` is off."""
    scan = ClosureScan()
    fence: tuple[str, int, str, int, int, str | None] | None = None
    header: str | None = None
    for start, end, line in events:
        if line.startswith("## "):
            if fence is not None and not recover:
                scan.swallowed_headers += 1
                continue
            if fence is not None:
                scan.has_unbalanced_fence = True
                scan.code_spans.append((fence[3], start))
                fence = None
            header = line
            scan.headers.append((line, start, min(end + 1, len(text))))
            continue
        char = line[0]
        run = len(line) - len(line.lstrip(char))
        info = line[run:].strip()
        if fence is None and not (char == "`" and "`" in info):
            language = info.split()[0].strip("{}.").lower() if info else ""
            fence = (char, run, language, start, min(end + 1, len(text)), header)
            scan.fence_count += 1
        elif fence is not None and char == fence[0] and run >= fence[1] and not info:
            scan.blocks.append(CodeBlock(fence[2], fence[5], fence[4], start))
            scan.code_spans.append((fence[3], end))
            fence = None
    if fence is not None and not recover:
        return None
    if fence is not None:
        scan.ends_in_open_fence = True
        scan.code_spans.append((fence[3], len(text)))
    return scan


def _closure_order(scan: ClosureScan) -> bool:
    return [_HEADERS[line] for line, _, _ in scan.headers] == _CLOSURE_ORDER


def scan_closure(text: str) -> ClosureScan:
    """Locate the closure headers and fenced code blocks of a response.

    The text is read as CommonMark first. If a fence never closes, or a closure header line sits
    inside a fence, it is read again with header lines ending any open fence; that reading wins
    when the first one leaves a fence open, or when only it finds the four sections in order.
    So one missing fence is reported as such instead of swallowing the sections after it, while
    a literal "## Result" line inside well-formed code stays code.
    """
    events = _line_events(text)
    strict = _walk(text, events, recover=False)
    if strict is not None and not strict.swallowed_headers:
        return strict
    recovered = _walk(text, events, recover=True) or ClosureScan()
    if strict is None or (_closure_order(recovered) and not _closure_order(strict)):
        return recovered
    return strict


def _sections(text: str, scan: ClosureScan) -> tuple[dict[Section, bool | None], bool, bool]:
    """Per section None if absent, else whether it has content; is_patch; is_closure_format."""
    has: dict[Section, bool | None] = dict.fromkeys(Section)
    seen: list[Section] = []
    is_patch = False
    headers = scan.headers
    for index, (line, _, body_start) in enumerate(headers):
        section = _HEADERS[line]
        seen.append(section)
        if has[section] is None:
            end = headers[index + 1][1] if index + 1 < len(headers) else len(text)
            body = text[body_start:end].strip()
            has[section] = bool(body) and body != ABSENT_MARKER
            is_patch = is_patch or line == "## Patch"
    is_closure = seen == _CLOSURE_ORDER and not text[: headers[0][1]].strip()
    return has, is_patch, is_closure


def _prose(text: str, spans: list[tuple[int, int]]) -> str:
    """The text outside the code spans."""
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return "\n".join(pieces)


def _last_visible(text: str) -> str:
    """The last non-whitespace character of `text` ("" if none)."""
    index = len(text) - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return text[index] if index >= 0 else ""


def _parses(code: str) -> bool:
    """Whether `ast.parse` accepts `code`, as is or dedented."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        if code.lstrip("\r\n")[:1] not in (" ", "\t"):
            return False
        try:
            ast.parse(textwrap.dedent(code))
        except (SyntaxError, ValueError, RecursionError):
            return False
    return True


GATES_SCHEMA = arrow_schema(GateVerdictRecord)
"""The output of the gates: measurements, then per-gate verdicts, then the fate."""

_Failure = tuple[GateReason, str]
_LENGTH_RULES = (  # reason, index into the measures tuple, policy field
    (GateReason.PROMPT_TOO_SHORT, 0, "min_prompt_chars"),
    (GateReason.PROMPT_TOO_SHORT, 1, "min_prompt_tokens"),
    (GateReason.PROMPT_TOO_LONG, 0, "max_prompt_chars"),
    (GateReason.PROMPT_TOO_LONG, 1, "max_prompt_tokens"),
    (GateReason.RESPONSE_TOO_SHORT, 2, "min_response_chars"),
    (GateReason.RESPONSE_TOO_SHORT, 3, "min_response_tokens"),
    (GateReason.RESPONSE_TOO_LONG, 2, "max_response_chars"),
    (GateReason.RESPONSE_TOO_LONG, 3, "max_response_tokens"),
)
_FORMAT_RULE = "sections exactly ## Plan, ## Code|## Patch, ## Checks, ## Result, nothing before"
_FENCE_RULE = "every code fence closed before the next section header"
_OPEN_FENCE_RULE = "response ends inside an unterminated code fence"
_PYTHON_RULE = "ast.parse accepts gates.structural.python_languages/python_families blocks"
_PLACEHOLDERS = "gates.format.placeholder_patterns"
_REFUSALS = "gates.format.refusal_phrases"
_NOT_TERMINAL = "last char not in gates.format.truncation.terminal_chars"


@dataclass(slots=True)
class _FamilyRules:
    """One family's length limits (reason, measure, is_min, limit, threshold) and cut-off."""

    limits: list[tuple[GateReason, int, bool, int, str]]
    is_python: bool
    truncation_chars: int
    truncation_rule: str


class GateEvaluator:
    """The gates compiled from one policy; `evaluate` runs them on a batch."""

    def __init__(self, policy: Policy) -> None:
        gates, fmt = policy.gates, policy.gates.format
        self._policy = policy
        self._hard = {r: gates.severity_of(r) is Severity.HARD for r in GateReason}
        self._required = gates.structural.required_sections
        self._python_languages = frozenset(gates.structural.python_languages)
        self._python_families = frozenset(gates.structural.python_families)
        self._placeholders = [
            (i, re.compile(item.pattern), item.targets, f"{_PLACEHOLDERS}[{i}]={item.pattern}")
            for i, item in enumerate(fmt.placeholder_patterns)
        ]
        self._refusals = [
            (i, phrase.lower().replace("\u2019", "'"), f"{_REFUSALS}[{i}]={phrase}")
            for i, phrase in enumerate(fmt.refusal_phrases)
        ]
        self._terminal = frozenset(fmt.truncation.terminal_chars)
        tolerance = fmt.truncation.token_limit_tolerance
        self._token_windows = [
            (
                limit * (1 - tolerance),
                limit * (1 + tolerance),
                f"{_NOT_TERMINAL} and response_tokens_approx within "
                f"gates.format.truncation.token_limit_tolerance={tolerance} of {limit}",
            )
            for limit in fmt.truncation.token_limits
        ]
        self._families: dict[str | None, _FamilyRules] = {}

    def _rules(self, family: str | None) -> _FamilyRules:
        """The family's limits, resolved once per evaluator."""
        rules = self._families.get(family)
        if rules is None:
            bounds = self._policy.gates.length.resolve(family)
            limits = [
                (reason, at, name[:4] == "min_", bounds.values[name], bounds.threshold(name))
                for reason, at, name in _LENGTH_RULES
            ]
            margin = self._policy.gates.format.truncation.max_chars_margin
            cutoff = bounds.values["max_response_chars"] - margin
            rule = (
                f"{_NOT_TERMINAL} and response_chars >= {bounds.keys['max_response_chars']} - "
                f"gates.format.truncation.max_chars_margin = {cutoff}"
            )
            rules = _FamilyRules(limits, family in self._python_families, cutoff, rule)
            self._families[family] = rules
        return rules

    def evaluate(self, batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]) -> pa.Table:
        """Measure and judge every row of `batch`.

        Args:
            batch: Rows with `example_id, benchmark_family, prompt, response` (other columns are
                ignored); a null prompt or response counts as empty text.

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
        example_id, family, prompt, response, p_chars, p_bytes, r_chars, r_bytes = values
        rules = self._rules(family)
        text = response or ""
        p_tokens, r_tokens = ((p_bytes or 0) + 3) // 4, ((r_bytes or 0) + 3) // 4
        measures = (p_chars or 0, p_tokens, r_chars or 0, r_tokens)
        scan = scan_closure(text)
        has, is_patch, is_closure = _sections(text, scan)
        fails = self._structure(has, scan)
        if not is_closure:
            fails.append((GateReason.NOT_CLOSURE_FORMAT, _FORMAT_RULE))
        prose = _prose(text, scan.code_spans)
        refusal = self._refusal(prose, fails)
        placeholder = self._placeholder(prompt or "", prose, text, fails)
        terminal = _last_visible(text) in self._terminal
        truncated = self._truncation(scan, terminal, rules, measures, fails)
        fails.extend(self._lengths(rules, measures))
        checked = errors = None
        if not any(self._hard[reason] for reason, _ in fails):
            checked, errors = self._python(text, scan, rules.is_python, memo)
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
            *self._decide(fails),
        )

    def _structure(self, has: Mapping[Section, bool | None], scan: ClosureScan) -> list[_Failure]:
        fails: list[_Failure] = []
        for section in self._required:
            rule = f"gates.structural.required_sections includes {section.value}"
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
        for index, phrase, rule in self._refusals:
            if phrase in folded:
                fails.append((GateReason.REFUSAL, rule))
                return index
        return None

    def _placeholder(self, prompt: str, prose: str, text: str, fails: list[_Failure]) -> int | None:
        texts = {ScanTarget.PROMPT: prompt, ScanTarget.RESPONSE_PROSE: prose}
        for index, pattern, targets, rule in self._placeholders:
            if any(pattern.search(texts.get(target, text)) for target in targets):
                fails.append((GateReason.TEMPLATE_PLACEHOLDER, rule))
                return index
        return None

    def _truncation(
        self,
        scan: ClosureScan,
        terminal: bool,
        rules: _FamilyRules,
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
            rule = next((r for lo, hi, r in self._token_windows if lo <= measures[3] <= hi), None)
        if rule is not None:
            fails.append((GateReason.TRUNCATED_AT_LIMIT, rule))
        return rule is not None

    @staticmethod
    def _lengths(rules: _FamilyRules, measures: tuple[int, int, int, int]) -> list[_Failure]:
        return [
            (reason, rule)
            for reason, measure, is_min, limit, rule in rules.limits
            if (measures[measure] < limit if is_min else measures[measure] > limit)
        ]

    def _python(
        self, text: str, scan: ClosureScan, is_python: bool, memo: dict[str, bool]
    ) -> tuple[int, int]:
        """(blocks parsed, blocks ast.parse rejects)."""
        checked = errors = 0
        for block in scan.blocks:
            if block.language in self._python_languages or (
                is_python and not block.language and block.header == "## Code"
            ):
                code = text[block.start : block.end]
                ok = memo.get(code)
                if ok is None:
                    ok = memo[code] = _parses(code)
                checked += 1
                errors += not ok
        return checked, errors

    def _decide(self, fails: list[_Failure]) -> tuple[Any, ...]:
        """Per gate its first hard (else first soft) reason; then the row's first hard reason."""
        chosen: dict[GateName, _Failure] = {}
        soft: list[str] = []
        gated: _Failure | None = None
        for reason, rule in sorted(fails, key=lambda fail: _REASON_RANK[fail[0]]):
            hard = self._hard[reason]
            if not hard:
                soft.append(reason.value)
            elif gated is None:
                gated = (reason, rule)
            current = chosen.get(reason.gate)
            if current is None or (hard and not self._hard[current[0]]):
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


def _as_table(batch: pa.Table | pa.RecordBatch | Sequence[Mapping[str, Any]]) -> pa.Table:
    columns = ("example_id", "benchmark_family", "prompt", "response")
    if isinstance(batch, pa.RecordBatch):
        batch = pa.Table.from_batches([batch])
    if not isinstance(batch, pa.Table):
        return pa.table({name: [row[name] for row in batch] for name in columns})
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
