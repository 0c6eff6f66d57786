"""Gates decide which rows are trained on; each decision must be exact, named and reproducible.

Table-driven cases assert the exact `GateReason`, gate and threshold for each failure mode, that
measurement columns are filled before verdicts, that soft reasons never gate a row out, and that
the batch API gives the same answer whatever the batch container.
"""

import copy
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from born_assets.curation.dedup import response_fingerprint
from born_assets.curation.gates import GATES_SCHEMA, GateEvaluator, evaluate_gates
from born_assets.schemas.reasons import GateName, GateReason, Severity
from born_assets.specs.policy import Policy
from born_assets.text.closure import ABSENT_MARKER, scan_closure
from born_assets_tests.conftest import SAMPLE_DATA

POLICY_PATH = SAMPLE_DATA / "policy.yaml"
PROMPT = "Write a function add_one(x) that returns x plus one."
GOOD_CODE = "```python\ndef add_one(x):\n    return x + 1\n```"
GOOD_CHECKS = "```python\nassert add_one(1) == 2\n```\nAll tests passed."


def closure(
    plan: str = "Add one to the input and return it.",
    code: str = GOOD_CODE,
    checks: str = GOOD_CHECKS,
    result: str = "The function returns x + 1.",
    code_header: str = "## Code",
) -> str:
    return (
        f"## Plan\n{plan}\n\n{code_header}\n{code}\n\n## Checks\n{checks}\n\n## Result\n{result}\n"
    )


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(POLICY_PATH)


def _policy_with(**changes: Any) -> Policy:
    document = yaml.safe_load(POLICY_PATH.read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = document
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return Policy.from_yaml(yaml.safe_dump(document))


def _one(policy: Policy, response: str | None, **row: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "example_id": "ex1",
        "benchmark_family": "mbpp_plus",
        "prompt": PROMPT,
    }
    record.update(row, response=response)
    return evaluate_gates([record], policy).to_pylist()[0]


def test_clean_closure_passes_every_gate(policy: Policy) -> None:
    row = _one(policy, closure())
    assert row["is_gated_out"] is False
    assert (row["is_structural_ok"], row["is_format_ok"], row["is_length_ok"]) == (True,) * 3
    assert (row["has_plan"], row["has_code"], row["has_checks"], row["has_result"]) == (True,) * 4
    assert row["is_closure_format"] and not row["is_patch"]
    assert (row["python_blocks_checked"], row["python_syntax_error_count"]) == (2, 0)
    assert row["code_fence_count"] == 2
    assert row["soft_failure_count"] == 0 and row["soft_failure_reasons"] == ""
    assert row["gated_out_gate"] is None and row["gated_out_threshold"] is None


# (case id, response, row overrides, expected gate, reason, threshold)
HARD_CASES = [
    ("missing code section",
     "## Plan\nAdd one.\n\n## Checks\nNone run.\n\n## Result\nDone.\n", {},
     GateName.STRUCTURAL, GateReason.MISSING_SECTION,
     "gates.kinds.code_task.required_sections includes code"),
    ("code is the absent marker", closure(code=ABSENT_MARKER), {},
     GateName.STRUCTURAL, GateReason.EMPTY_SECTION,
     "gates.kinds.code_task.required_sections includes code (not empty, not absent marker)"),
    ("code section blank", closure(code="   "), {},
     GateName.STRUCTURAL, GateReason.EMPTY_SECTION,
     "gates.kinds.code_task.required_sections includes code (not empty, not absent marker)"),
    ("fence left open before the next header",
     closure(code="```python\ndef add_one(x):\n    return x + 1\n"), {},
     GateName.STRUCTURAL, GateReason.UNBALANCED_CODE_FENCE,
     "every code fence closed before the next section header"),
    ("python block does not parse",
     closure(code="```python\ndef add_one(x)\n    return x + 1\n```"), {},
     GateName.STRUCTURAL, GateReason.PYTHON_SYNTAX_ERROR,
     "ast.parse accepts gates.structural.python_languages/python_families blocks"),
    ("python checks block does not parse",
     closure(checks="```py\nassert add_one(1) ==\n```"), {},
     GateName.STRUCTURAL, GateReason.PYTHON_SYNTAX_ERROR,
     "ast.parse accepts gates.structural.python_languages/python_families blocks"),
    ("untagged code in a python family",
     closure(code="```\ndef add_one(x) return x\n```"), {},
     GateName.STRUCTURAL, GateReason.PYTHON_SYNTAX_ERROR,
     "ast.parse accepts gates.structural.python_languages/python_families blocks"),
    ("text before the plan", "Sure! Here it is.\n" + closure(), {},
     GateName.FORMAT, GateReason.NOT_CLOSURE_FORMAT,
     "sections exactly ## Plan, ## Code|## Patch, ## Checks, ## Result, nothing before"),
    ("sections out of order",
     "## Plan\nAdd.\n\n## Code\n" + GOOD_CODE + "\n\n## Result\nDone.\n\n## Checks\nOk.\n", {},
     GateName.FORMAT, GateReason.NOT_CLOSURE_FORMAT,
     "sections exactly ## Plan, ## Code|## Patch, ## Checks, ## Result, nothing before"),
    ("a section twice", closure() + "\n## Result\nAgain.\n", {},
     GateName.FORMAT, GateReason.NOT_CLOSURE_FORMAT,
     "sections exactly ## Plan, ## Code|## Patch, ## Checks, ## Result, nothing before"),
    ("ends inside an open fence",
     closure().rstrip() + "\n\n```python\nprint(add_one(", {},
     GateName.FORMAT, GateReason.TRUNCATED_IN_CODE_FENCE,
     "response ends inside an unterminated code fence"),
    ("refusal with a curly apostrophe",
     closure(plan="I\u2019m sorry, but I can\u2019t help with that."), {},
     GateName.FORMAT, GateReason.REFUSAL,
     "gates.format.refusal_phrases[0]=I'm sorry, but I can't"),
    ("refusal boilerplate in the result",
     closure(result="AS AN AI LANGUAGE MODEL, I cannot run code."), {},
     GateName.FORMAT, GateReason.REFUSAL,
     "gates.format.refusal_phrases[3]=As an AI language model"),
    ("unfilled prompt template", closure(), {"prompt": "Solve this task: {prompt}"},
     GateName.FORMAT, GateReason.TEMPLATE_PLACEHOLDER,
     "gates.format.placeholder_patterns[0]="
     r"\{(?:prompt|question|instruction|problem|task_description)\}"),
    ("mustache placeholder in the plan", closure(plan="Answer {{ question }} briefly."), {},
     GateName.FORMAT, GateReason.TEMPLATE_PLACEHOLDER,
     "gates.format.placeholder_patterns[1]="
     r"\{\{ ?(?:prompt|question|instruction|problem|input|context|code|answer|response) ?\}\}"),
    ("stub left in the code",
     closure(code="```python\ndef add_one(x):\n    # TODO: fill in\n    pass\n```"), {},
     GateName.FORMAT, GateReason.TEMPLATE_PLACEHOLDER,
     r"gates.format.placeholder_patterns[4]=TODO: ?[Ff]ill\b"),
    ("chat template token leaked", closure(result="Done.<|im_end|>"), {},
     GateName.FORMAT, GateReason.TEMPLATE_PLACEHOLDER,
     "gates.format.placeholder_patterns[5]="
     r"<\|(?:im_start|im_end|endoftext|eot_id|begin_of_text|start_header_id|end_header_id)\|>"),
    ("prompt too short", closure(), {"prompt": "Add one."},
     GateName.LENGTH, GateReason.PROMPT_TOO_SHORT, "gates.length.default.min_prompt_chars=20"),
    ("prompt too long for the family", closure(), {"prompt": "x" * 4001},
     GateName.LENGTH, GateReason.PROMPT_TOO_LONG, "gates.length.mbpp_plus.max_prompt_chars=4000"),
    ("prompt too long for default", closure(), {"prompt": "x" * 60001, "benchmark_family": "new"},
     GateName.LENGTH, GateReason.PROMPT_TOO_LONG, "gates.length.default.max_prompt_chars=60000"),
    ("response too long for the family", closure(result="y" * 20001 + "."), {},
     GateName.LENGTH, GateReason.RESPONSE_TOO_LONG,
     "gates.length.mbpp_plus.max_response_chars=20000"),
    ("empty response", "", {},
     GateName.LENGTH, GateReason.RESPONSE_TOO_SHORT, "gates.length.default.min_response_chars=40"),
    ("null response", None, {},
     GateName.LENGTH, GateReason.RESPONSE_TOO_SHORT, "gates.length.default.min_response_chars=40"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("response", "row", "gate", "reason", "threshold"),
    [case[1:] for case in HARD_CASES],
    ids=[case[0] for case in HARD_CASES],
)
def test_hard_failure_names_gate_reason_threshold(
    policy: Policy,
    response: str | None,
    row: dict[str, Any],
    gate: GateName,
    reason: GateReason,
    threshold: str,
) -> None:
    result = _one(policy, response, **row)
    assert result["is_gated_out"] is True
    assert (result["gated_out_gate"], result["gated_out_reason"]) == (gate.value, reason.value)
    assert result["gated_out_threshold"] == threshold
    assert result[f"is_{gate.value}_ok"] is False
    assert result[f"{gate.value}_reason"] == reason.value
    assert result[f"{gate.value}_threshold"] == threshold


# (case id, response, row overrides, measurement column, expected value)
PASSING_CASES = [
    ("header inside a closed fence is code",
     closure(code="```python\ns = '''\n## Result\n'''\n```"), {}, "is_closure_format", True),
    ("refusal text inside code is ignored",
     closure(code="```python\nMSG = \"I'm sorry, but I can't\"\n```"), {},
     "refusal_phrase_index", None),
    ("mustache inside code is ignored",
     closure(code="```python\nTEMPLATE = '{{ question }}'\n```"), {},
     "placeholder_pattern_index", None),
    ("indented body-only snippet parses dedented",
     closure(code="```python\n    y = x + 1\n    return y\n```"), {},
     "python_syntax_error_count", 0),
    ("untagged block outside a python family is not parsed",
     closure(code="```\nfn add_one(x: i32) -> i32 { x + 1 }\n```"), {"benchmark_family": "rust"},
     "python_blocks_checked", 1),
    ("untagged block in a patch is not parsed",
     closure(code="```\ndiff --git a/m.py b/m.py\n+x = (\n```", code_header="## Patch"), {},
     "python_blocks_checked", 1),
    ("patch header counts as the code section",
     closure(code="```diff\n--- a/m.py\n+++ b/m.py\n```", code_header="## Patch"), {},
     "is_patch", True),
    ("tilde fences pair like backtick fences",
     closure(code="~~~python\ndef f():\n    return '```'\n~~~"), {}, "code_fence_count", 2),
    ("a longer fence is closed only by a long enough run",
     closure(code="````python\nx = '''\n```\n'''\n````"), {}, "has_unbalanced_fence", False),
    ("inline triple backticks are not a fence",
     closure(plan="Use ```inline``` markup."), {}, "code_fence_count", 2),
    ("indented four spaces is not a fence",
     closure(plan="    ```python\n    x = (\n"), {}, "code_fence_count", 2),
    ("fence indented up to three spaces counts",
     closure(code="   ```python\n   x = 1\n   ```"), {}, "python_blocks_checked", 2),
    ("empty plan only lowers the score", closure(plan=ABSENT_MARKER), {}, "has_plan", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("response", "row", "column", "expected"),
    [case[1:] for case in PASSING_CASES],
    ids=[case[0] for case in PASSING_CASES],
)
def test_passing_rows_and_their_measurements(
    policy: Policy, response: str, row: dict[str, Any], column: str, expected: Any
) -> None:
    result = _one(policy, response, **row)
    assert result["is_gated_out"] is False, result["gated_out_reason"]
    assert result[column] == expected


def test_lengths_are_code_points_and_ceil_bytes_over_four(policy: Policy) -> None:
    response = closure(result="\u00e9\u4e2d")
    row = _one(policy, response, prompt="\U0001f600" + "p" * 30)
    assert row["prompt_chars"] == 31
    assert row["prompt_tokens_approx"] == (4 + 30 + 3) // 4
    assert row["response_chars"] == len(response)
    assert row["response_tokens_approx"] == (len(response.encode()) + 3) // 4


def test_token_bound_catches_what_the_char_bound_misses() -> None:
    policy = _policy_with(
        gates__length={
            "default": {
                "min_prompt_chars": 0, "max_prompt_chars": 1000, "min_prompt_tokens": 0,
                "max_prompt_tokens": 1000, "min_response_chars": 0, "max_response_chars": 1000,
                "min_response_tokens": 0, "max_response_tokens": 200,
            }
        }
    )  # fmt: skip
    response = closure(result="\u4e2d" * 300)
    row = _one(policy, response)
    assert row["response_chars"] < 1000 < row["response_tokens_approx"] * 4
    assert row["gated_out_reason"] == GateReason.RESPONSE_TOO_LONG.value
    assert row["gated_out_threshold"] == "gates.length.default.max_response_tokens=200"


def test_cut_at_the_char_limit_is_a_soft_truncation(policy: Policy) -> None:
    base = closure(result="")
    response = base + "z" * (19900 - len(base)) + " and then"
    row = _one(policy, response)
    assert row["is_gated_out"] is False
    assert row["is_truncated"] is True and row["ends_with_terminal_char"] is False
    assert row["soft_failure_reasons"] == GateReason.TRUNCATED_AT_LIMIT.value
    assert row["format_reason"] == GateReason.TRUNCATED_AT_LIMIT.value
    assert row["format_threshold"] == (
        "last char not in gates.format.truncation.terminal_chars and response_chars >= "
        "gates.length.mbpp_plus.max_response_chars - gates.format.truncation.max_chars_margin "
        "= 19800"
    )


def test_cut_at_a_round_token_limit_is_a_soft_truncation(policy: Policy) -> None:
    base = closure(result="")
    response = base + "w" * (4 * 2048 - len(base) - 12) + " and then"
    row = _one(policy, response, benchmark_family="ds1000")
    assert row["response_tokens_approx"] == (len(response) + 3) // 4 == 2048
    assert row["soft_failure_reasons"] == GateReason.TRUNCATED_AT_LIMIT.value
    assert row["format_threshold"].endswith("token_limit_tolerance=0.02 of 2048")


def test_terminal_char_means_not_truncated(policy: Policy) -> None:
    base = closure(result="")
    response = base + "z" * (19900 - len(base)) + " end."
    row = _one(policy, response)
    assert row["is_truncated"] is False and row["soft_failure_count"] == 0


def test_soft_override_keeps_the_row_and_counts_it() -> None:
    policy = _policy_with(gates__reason_severity={"python_syntax_error": "soft"})
    row = _one(policy, closure(code="```python\ndef f(:\n```"))
    assert row["is_gated_out"] is False
    assert row["is_structural_ok"] is False
    assert row["structural_reason"] == GateReason.PYTHON_SYNTAX_ERROR.value
    assert row["soft_failure_count"] == 1
    assert row["soft_failure_reasons"] == GateReason.PYTHON_SYNTAX_ERROR.value


def test_hard_reason_wins_over_soft_within_a_gate() -> None:
    policy = _policy_with(gates__reason_severity={"not_closure_format": "soft"})
    row = _one(policy, "Intro\n" + closure(plan="I'm sorry, but I can't do that."))
    assert row["format_reason"] == GateReason.REFUSAL.value
    assert row["soft_failure_reasons"] == GateReason.NOT_CLOSURE_FORMAT.value
    assert row["gated_out_reason"] == GateReason.REFUSAL.value


def test_root_cause_is_reported_first(policy: Policy) -> None:
    refusal = "## Plan\nI'm sorry, but I can't help with that.\n"
    row = _one(policy, refusal)
    assert row["gated_out_reason"] == GateReason.REFUSAL.value
    assert row["structural_reason"] == GateReason.MISSING_SECTION.value
    assert row["format_reason"] == GateReason.REFUSAL.value
    assert row["length_reason"] is None


def test_parse_is_skipped_once_a_row_is_gated_out(policy: Policy) -> None:
    row = _one(policy, closure(code="```python\ndef f(:\n```"), prompt="short")
    assert row["gated_out_reason"] == GateReason.PROMPT_TOO_SHORT.value
    assert row["python_blocks_checked"] is None
    assert row["python_syntax_error_count"] is None


def test_unbalanced_fence_does_not_swallow_later_sections(policy: Policy) -> None:
    response = closure(code="```python\nx = 1\n")
    scan = scan_closure(response)
    assert [header for header, _, _ in scan.headers] == [
        "## Plan", "## Code", "## Checks", "## Result",
    ]  # fmt: skip
    assert scan.has_unbalanced_fence and not scan.ends_in_open_fence
    row = _one(policy, response)
    assert row["has_checks"] and row["has_result"] and row["is_closure_format"]


def test_response_norm_hash_is_the_fingerprint(policy: Policy) -> None:
    response = closure()
    assert _one(policy, response)["response_norm_hash"] == response_fingerprint(response)
    assert _one(policy, None)["response_norm_hash"] is None


def _rows() -> list[dict[str, Any]]:
    responses = [
        closure(),
        closure(code=ABSENT_MARKER),
        "",
        None,
        closure(plan="As an AI language model"),
    ]
    return [
        {"example_id": f"ex{index}", "benchmark_family": family, "prompt": PROMPT,
         "response": response, "extra_column": index}
        for index, (response, family) in enumerate(
            zip(responses, ["mbpp_plus", "humaneval", None, "ds1000", "x"], strict=True)
        )
    ]  # fmt: skip


def test_batch_containers_agree_and_keep_input_order(policy: Policy) -> None:
    rows = _rows()
    table = pa.Table.from_pylist(rows)
    from_dicts = evaluate_gates(rows, policy)
    assert from_dicts.schema == GATES_SCHEMA
    assert from_dicts.column("example_id").to_pylist() == [row["example_id"] for row in rows]
    assert evaluate_gates(table, policy).equals(from_dicts)
    assert evaluate_gates(table.to_batches()[0], policy).equals(from_dicts)
    large = table.cast(
        pa.schema([field.with_type(pa.large_string()) if field.type == pa.string() else field
                   for field in table.schema])
    )  # fmt: skip
    assert evaluate_gates(large, policy).equals(from_dicts)


def test_one_evaluator_streams_batches(policy: Policy) -> None:
    rows = _rows()
    evaluator = GateEvaluator(policy)
    streamed = pa.concat_tables([evaluator.evaluate(rows[:2]), evaluator.evaluate(rows[2:])])
    assert streamed.equals(evaluate_gates(rows, policy))


def test_empty_batch_keeps_the_schema(policy: Policy) -> None:
    empty = evaluate_gates([], policy)
    assert empty.num_rows == 0 and empty.schema == GATES_SCHEMA


def test_missing_input_column_is_an_error(policy: Policy) -> None:
    table = pa.table({"example_id": ["a"], "prompt": ["p"], "response": ["r"]})
    with pytest.raises(KeyError, match="benchmark_family"):
        evaluate_gates(table, policy)


def test_every_rejected_row_carries_gate_reason_threshold(policy: Policy) -> None:
    rows = _rows() + [
        {"example_id": f"case{i}", "benchmark_family": "mbpp_plus", "prompt": PROMPT,
         **case[2], "response": case[1]}
        for i, case in enumerate(HARD_CASES)
    ]  # fmt: skip
    for row in evaluate_gates(rows, policy).to_pylist():
        if row["is_gated_out"]:
            reason = GateReason(row["gated_out_reason"])
            assert row["gated_out_gate"] == reason.gate.value
            assert row["gated_out_threshold"]
        else:
            assert row["gated_out_reason"] is None


def test_every_reason_belongs_to_a_gate() -> None:
    assert {reason.gate for reason in GateReason} == set(GateName)
    assert list(GateReason)[-1] is GateReason.PYTHON_SYNTAX_ERROR


_FRAGMENTS = st.sampled_from(
    ["## Plan", "## Code", "## Patch", "## Checks", "## Result", "```", "```python", "````",
     "~~~", "   ```", "    ```", "\n", "\n\n", " ", "x = (", "x = 1", "def f():", "    return 1",
     ABSENT_MARKER, "I'm sorry, but I can't", "{prompt}", "`", "#", "."]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=40).map("".join), st.sampled_from(["mbpp_plus", None]))
def test_any_text_gets_exactly_one_consistent_verdict(
    policy: Policy, response: str, family: str | None
) -> None:
    rows = [{"example_id": "e", "benchmark_family": family, "prompt": PROMPT, "response": response}]
    row = evaluate_gates(rows, policy).to_pylist()[0]
    assert row["is_gated_out"] == (row["gated_out_reason"] is not None)
    assert row["is_gated_out"] == any(
        reason is not None and policy.gates.severity_of(GateReason(reason)) is Severity.HARD
        for reason in (row["structural_reason"], row["format_reason"], row["length_reason"])
    )
    soft = [r for r in row["soft_failure_reasons"].split(",") if r]
    assert row["soft_failure_count"] == len(soft)
    at_limit = GateReason.TRUNCATED_AT_LIMIT.value
    assert row["is_truncated"] == (
        row["ends_in_open_fence"] or at_limit in (*soft, row["format_reason"])
    )
    scan = scan_closure(response)
    for start, end in scan.code_spans:
        assert 0 <= start <= end <= len(response)
