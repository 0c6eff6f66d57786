"""The closure rewrite gives every released response the same shape without inventing anything.

Students learn the Plan / Code / Checks / Result habit only if the sections hold what the source
really said: code that was written, checks that were really run and their real output, the
answer that was really given. A section filled with made-up content would teach fabrication, so
absent sections carry the exact absent marker, and every rule (bare solution bodies, diffs as
Patch, asserts and tool runs as Checks, final prose as Result) is pinned with exact outputs.
`sanitize_row` is tested end to end: its transforms are the lineage record of what happened to
each row, and rows with nothing visible left must come back as `EmptyVisible` with a reason.
Rendering a conversation by meaning (edits, commands, submissions) is pinned in
`test_sanitize_conversations.py`.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from born_assets.sanitize.closure import ClosureResult, to_closure
from born_assets.sanitize.pipeline import (
    EmptyReason,
    EmptyVisible,
    SanitizedRow,
    Transform,
    sanitize_row,
)
from born_assets.text.closure import (
    ABSENT_MARKER,
    SECTION_CHECKS,
    SECTION_CODE,
    SECTION_PATCH,
    SECTION_PLAN,
    SECTION_RESULT,
    fence_parse_record,
    python_parses,
    scan_closure,
)
from born_assets.text.thinking import find_hidden_markers
from born_assets.traces.atropos import RolloutGroupOptions, Selection
from born_assets.traces.codec import Trace, encode_trace
from born_assets.traces.conversation import Block, BlockKind, Role, Turn, render_prompt
from born_assets.traces.fields import AdapterSpec, FormatMismatch
from born_assets.traces.messages import message
from born_assets.traces.registry import get_adapter
from born_assets_tests.conftest import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "traces"
A = ABSENT_MARKER


def closure(
    plan: str = A, code: str = A, checks: str = A, result: str = A, patch: bool = False
) -> str:
    code_header = SECTION_PATCH if patch else SECTION_CODE
    return (
        f"{SECTION_PLAN}\n{plan}\n\n{code_header}\n{code}\n\n"
        f"{SECTION_CHECKS}\n{checks}\n\n{SECTION_RESULT}\n{result}\n"
    )


def test_section_constants() -> None:
    assert (
        ABSENT_MARKER,
        SECTION_PLAN,
        SECTION_CODE,
        SECTION_PATCH,
        SECTION_CHECKS,
        SECTION_RESULT,
    ) == (
        "_Not present in the source._",
        "## Plan",
        "## Code",
        "## Patch",
        "## Checks",
        "## Result",
    )


# HumanEval/0 `canonical_solution`, verbatim: openai/human-eval `data/HumanEval.jsonl.gz`
# at commit 6d43fb980f9fee3c892a914eda09951f772ad10d (MIT).
HUMANEVAL_0_SOLUTION = (
    "    for idx, elem in enumerate(numbers):\n"
    "        for idx2, elem2 in enumerate(numbers):\n"
    "            if idx != idx2:\n"
    "                distance = abs(elem - elem2)\n"
    "                if distance < threshold:\n"
    "                    return True\n"
    "\n"
    "    return False\n"
)

SWEBENCH_STYLE_PATCH = (
    "diff --git a/pkg/mod.py b/pkg/mod.py\n"
    "--- a/pkg/mod.py\n"
    "+++ b/pkg/mod.py\n"
    "@@ -1,2 +1,2 @@\n"
    " def f(x):\n"
    "-    return x\n"
    "+    return x + 1\n"
)

CLOSURE_CASES = [
    pytest.param("Paris.", closure(result="Paris."), ("result",), id="prose-only-is-result"),
    pytest.param(
        "Answer: 42", closure(result="Answer: 42"), ("result",), id="annotation-like-prose"
    ),
    pytest.param(
        "Use a loop.\n\n```python\ndef add(a, b):\n    return a + b\n\n"
        "assert add(1, 2) == 3\n```\n\nThis returns the sum.",
        closure(
            plan="Use a loop.",
            code="```python\ndef add(a, b):\n    return a + b\n```",
            checks="```python\nassert add(1, 2) == 3\n```",
            result="This returns the sum.",
        ),
        ("plan", "code", "checks", "result"),
        id="code-then-asserts-split",
    ),
    pytest.param(
        HUMANEVAL_0_SOLUTION,
        closure(code="```python\n" + HUMANEVAL_0_SOLUTION.rstrip() + "\n```"),
        ("code",),
        id="bare-solution-body",
    ),
    pytest.param(
        "The fix increments the value.\n" + SWEBENCH_STYLE_PATCH,
        closure(
            plan="The fix increments the value.",
            code="```diff\n" + SWEBENCH_STYLE_PATCH.rstrip() + "\n```",
            patch=True,
        ),
        ("plan", "patch"),
        id="bare-diff-is-patch",
    ),
    pytest.param(
        "Patch:\n```diff\n"
        + SWEBENCH_STYLE_PATCH
        + "```\nRun tests:\n```bash\n$ pytest -q\n```\nDone.",
        closure(
            plan="Patch:",
            code="```diff\n" + SWEBENCH_STYLE_PATCH.rstrip() + "\n```",
            checks="Run tests:\n\n```bash\n$ pytest -q\n```",
            result="Done.",
            patch=True,
        ),
        ("plan", "patch", "checks", "result"),
        id="fenced-diff-and-test-command-prose-joins-its-step",
    ),
    pytest.param(
        "Install it:\n```sh\npip install requests\n```",
        closure(plan="Install it:", code="```sh\npip install requests\n```"),
        ("plan", "code"),
        id="shell-without-tests-is-code",
    ),
    pytest.param(
        "```python\n# helper\n@cache\ndef f(n):\n    return n\n\n# tests\n@pytest.mark.slow\n"
        "def test_f():\n    assert f(1) == 1\n\nif __name__ == '__main__':\n    check(f)\n```",
        closure(
            code="```python\n# helper\n@cache\ndef f(n):\n    return n\n```",
            checks="```python\n# tests\n@pytest.mark.slow\ndef test_f():\n    assert f(1) == 1\n\n"
            "if __name__ == '__main__':\n    check(f)\n```",
        ),
        ("code", "checks"),
        id="test-functions-decorators-comments-main-guard",
    ),
    pytest.param(
        "```python\nassert f(1) == 2\nassert f(2) ==\n```",
        closure(checks="```python\nassert f(1) == 2\nassert f(2) ==\n```"),
        ("checks",),
        id="unparseable-asserts",
    ),
    pytest.param(
        "```js\nconst s = '```';\n```\nok",
        closure(code="````js\nconst s = '```';\n````", result="ok"),
        ("code", "result"),
        id="refence-longer-than-inner-backticks",
    ),
    pytest.param(
        "Example:\n```\n<think>literal</think>\n```\nThat is a tag.",
        closure(plan="Example:", code="```\n<think>literal</think>\n```", result="That is a tag."),
        ("plan", "code", "result"),
        id="think-in-code-survives",
    ),
    pytest.param(
        "x = 1",
        closure(code="```python\nx = 1\n```"),
        ("code",),
        id="bare-assignment-is-code",
    ),
]


@pytest.mark.parametrize(("source", "expected", "derived"), CLOSURE_CASES)
def test_to_closure(source: str, expected: str, derived: tuple[str, ...]) -> None:
    result = to_closure(source)
    sections = ("plan", "patch" if "patch" in derived else "code", "checks", "result")
    absent = tuple(s for s in sections if s not in derived)
    assert (result.text, result.derived, result.absent) == (expected, derived, absent)
    assert to_closure(result.text) == ClosureResult(result.text, derived, absent)


@pytest.mark.parametrize(("source", "expected", "derived"), CLOSURE_CASES)
def test_recorded_parses_match_a_fresh_parse(
    source: str, expected: str, derived: tuple[str, ...]
) -> None:
    """What the rewrite records about each fence is what parsing that fence again gives."""
    result = to_closure(source)
    record = fence_parse_record(result.text, result.python_parses)
    blocks = scan_closure(result.text).blocks
    assert len(record) == (len(blocks) if result.python_parses else 0)
    for outcome, block in zip(record, blocks, strict=False):
        if outcome != ".":
            assert (outcome == "1") == python_parses(result.text[block.start : block.end])


def test_python_fences_are_recorded_as_parsed_or_not() -> None:
    result = to_closure(
        "```python\ndef f(:\n```\n\n```python\nx = 1\nassert x\n```\n\n```\nplain\n```"
    )
    assert (
        fence_parse_record(result.text, result.python_parses) == "01.1"
    )  # Code: bad, x = 1, plain; Checks: assert x


def test_mbpp_reference_code_is_code_verbatim() -> None:
    lines = (FIXTURES / "prompt_response_mbpp.jsonl").read_text(encoding="utf-8").splitlines()
    code = json.loads(lines[0])["code"]
    assert code.startswith("R = 3\r\nC = 3\r\ndef min_cost(cost, m, n): \r\n")
    assert to_closure(code) == ClosureResult(
        closure(code="```python\n" + code + "\n```"),
        ("code",),
        ("plan", "checks", "result"),
        {code: True},
    )


def test_closure_from_turns_puts_a_command_and_its_output_in_checks() -> None:
    turns = (
        Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, "I'll run the tests."),)),
        Turn(
            Role.ASSISTANT,
            (Block(BlockKind.TOOL_CALL, '{"command": "pytest -q"}', name="bash", call_id="c1"),),
        ),
        Turn(Role.TOOL, (Block(BlockKind.TOOL_RESULT, "3 passed", call_id="c1"),)),
        Turn(Role.USER, (Block(BlockKind.TEXT, "thanks"),)),
        Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, "All tests pass."),)),
    )
    assert to_closure(turns) == ClosureResult(
        closure(
            plan="I'll run the tests.",
            checks='Ran `bash`:\n```json\n{"command": "pytest -q"}\n```\n'
            "Output:\n```\n3 passed\n```",
            result="All tests pass.",
        ),
        ("plan", "checks", "result"),
        ("code",),
    )


def test_closure_from_turns_refuses_hidden_blocks() -> None:
    with pytest.raises(ValueError, match="strip_turns"):
        to_closure((Turn(Role.ASSISTANT, (Block(BlockKind.THINKING, "x"),)),))


def test_teacher_text_already_in_closure_format_is_unchanged() -> None:
    text = "## Plan\nSum them.\n\n## Code\n```python\nx = 1 + 2\n```\n\n## Checks\n" + A
    text += "\n\n## Result\n3\n"
    assert to_closure(text) == ClosureResult(text, ("plan", "code", "result"), ("checks",))


# --- sanitize_row -------------------------------------------------------------------------------


def test_sanitize_text_response() -> None:
    row = sanitize_row("<think>user draft</think>Add 1 and 2.", "<think>easy</think>\n3", "text")
    assert row == SanitizedRow(
        prompt="Add 1 and 2.",
        response=closure(result="3"),
        messages=[message("user", "Add 1 and 2."), message("assistant", "3")],
        tools=[],
        transforms=(
            Transform("strip_think_tags", {"field": "prompt", "blocks": 1, "chars": 25}),
            Transform("strip_think_tags", {"field": "response", "blocks": 1, "chars": 20}),
            Transform("rewrite_closure", {"derived": "result", "absent": "plan,code,checks"}),
        ),
        sections_derived=("result",),
        sections_absent=("plan", "code", "checks"),
    )


def fixture_example(name: str, row: int, fmt: str) -> Any:
    lines = (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return get_adapter(fmt)(json.loads(lines[row]), AdapterSpec())


def test_sanitize_turns_drops_reasoning_blocks() -> None:
    example = fixture_example("openai_chat_api", 0, "openai_chat_exchange")
    reasoning = example.response_turns[0].blocks[0].text
    row = sanitize_row(render_prompt(example.prompt_turns), encode_trace(example), "turns")
    assert row == SanitizedRow(
        prompt="### user\nReply with exactly SAFE.",
        response=closure(result="SAFE"),
        messages=[message("user", "Reply with exactly SAFE."), message("assistant", "SAFE")],
        tools=[],
        transforms=(
            Transform(
                "drop_thinking_blocks",
                {"field": "response", "blocks": 1, "chars": len(reasoning)},
            ),
            Transform("rewrite_closure", {"derived": "result", "absent": "plan,code,checks"}),
        ),
        sections_derived=("result",),
        sections_absent=("plan", "code", "checks"),
    )


def test_sanitize_turns_counts_redacted_thinking_and_keeps_followups() -> None:
    redacted = fixture_example("anthropic_messages", 2, "anthropic_messages")
    row = sanitize_row(render_prompt(redacted.prompt_turns), encode_trace(redacted), "turns")
    assert isinstance(row, SanitizedRow)
    assert row.transforms[0] == Transform(
        "drop_redacted_thinking", {"field": "response", "blocks": 1}
    )
    plain = fixture_example("sharegpt_plain", 0, "sharegpt")
    row = sanitize_row(render_prompt(plain.prompt_turns), encode_trace(plain), "turns")
    assert isinstance(row, SanitizedRow)
    first = (
        "I am Vicuna, a language model trained by researchers from Large Model Systems "
        "Organization (LMSYS)."
    )
    # Every observable turn stays in the messages, the user's follow-up too; the closure's
    # Result is the final answer (the earlier one is an answer to an earlier question).
    assert row.messages == [
        message("user", "Who are you?"),
        message("assistant", first),
        message("user", "Have a nice day!"),
        message("assistant", "You too!"),
    ]
    assert row.transforms == (
        Transform("rewrite_closure", {"derived": "result", "absent": "plan,code,checks"}),
    )
    assert row.response == closure(result="You too!")


def _trace(*response: Turn) -> str:
    return encode_trace(Trace((Turn(Role.USER, (Block(BlockKind.TEXT, "q"),)),), response))


@pytest.mark.parametrize(
    ("prompt", "response", "response_format", "reason"),
    [
        ("q", "<think>only reasoning", "text", EmptyReason.RESPONSE_ONLY_HIDDEN_REASONING),
        ("q", "  \n", "text", EmptyReason.EMPTY_RESPONSE),
        ("<think>x</think>", "a", "text", EmptyReason.PROMPT_ONLY_HIDDEN_REASONING),
        ("", "a", "text", EmptyReason.EMPTY_PROMPT),
        (
            "### user\nq",
            _trace(Turn(Role.ASSISTANT, (Block(BlockKind.THINKING, "x"),))),
            "turns",
            EmptyReason.RESPONSE_ONLY_HIDDEN_REASONING,
        ),
        (
            "### user\nq",
            _trace(Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, ""),))),
            "turns",
            EmptyReason.EMPTY_RESPONSE,
        ),
        (
            "",
            encode_trace(Trace((), (Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, "a"),)),))),
            "turns",
            EmptyReason.EMPTY_PROMPT,
        ),
    ],
)
def test_nothing_visible_is_empty_visible(
    prompt: str, response: str, response_format: Any, reason: EmptyReason
) -> None:
    assert sanitize_row(prompt, response, response_format) == EmptyVisible(reason)


def test_sanitize_row_rejects_bad_input() -> None:
    with pytest.raises(FormatMismatch):
        sanitize_row("q", "not json", "turns")
    with pytest.raises(ValueError, match="response_format"):
        sanitize_row("q", "a", "html")  # type: ignore[arg-type]


def all_fixture_examples() -> list[Any]:
    formats = {
        "sharegpt_plain": "sharegpt",
        "sharegpt_hermes": "sharegpt",
        "sharegpt_function_call": "sharegpt",
        "openai_chat_api": "openai_chat_exchange",
        "openai_tool_calls": "openai_chat",
        "anthropic_messages": "anthropic_messages",
        "llamafactory_blocks": "llamafactory_blocks",
        "atropos_rollouts": "scored_rollout_group",
        "swe_agent_trajectories": "swe_agent_trajectory",
        "prompt_response_mbpp": "prompt_response",
    }
    examples = []
    for name, fmt in formats.items():
        spec = AdapterSpec(
            messages_field="traj" if name == "openai_tool_calls" else None,
            prompt_field="text",
            response_field="code",
            options=RolloutGroupOptions(select=Selection.BEST_SCORE)
            if name == "atropos_rollouts"
            else None,
        )
        for line in (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            try:
                examples.append(get_adapter(fmt)(json.loads(line), spec))
            except FormatMismatch:
                continue
    return examples


def test_every_fixture_sanitizes_clean_and_idempotent() -> None:
    examples = all_fixture_examples()
    assert len(examples) == 22
    for example in examples:
        row = sanitize_row(render_prompt(example.prompt_turns), encode_trace(example), "turns")
        assert isinstance(row, SanitizedRow)
        assert find_hidden_markers(row.prompt) == []
        assert find_hidden_markers(row.response) == []
        for item in row.messages:
            if item["role"] != "tool":
                assert find_hidden_markers(item["content"] or "") == []
        again = to_closure(row.response)
        assert (again.text, again.derived, again.absent) == (
            row.response,
            row.sections_derived,
            row.sections_absent,
        )
        again_row = sanitize_row(row.prompt, row.response, "text")
        assert isinstance(again_row, SanitizedRow)
        assert (again_row.prompt, again_row.response) == (row.prompt, row.response)
        assert again_row.transforms == (
            Transform("rewrite_closure", dict(row.transforms[-1].detail)),
        )


FUZZ_FRAGMENTS = [
    "<think>",
    "</think>",
    "&lt;think&gt;",
    "<thi",
    "nk>",
    "`",
    "```",
    "```python\n",
    "~~~\n",
    "\n",
    " ",
    "x = 1",
    "assert x",
    "def test_a():\n    pass\n",
    "diff --git a/x b/x\n",
    "--- a/x\n",
    "+++ b/x\n",
    "@@ -1 +1 @@\n",
    "prose.",
    "## Plan\n",
    "## Code\n",
    "é",
]


def test_released_response_never_shows_a_marker_and_is_stable() -> None:
    rng = random.Random(20260102)
    for _ in range(3000):
        text = "".join(rng.choices(FUZZ_FRAGMENTS, k=rng.randrange(30)))
        row = sanitize_row("q", text, "text")
        if isinstance(row, EmptyVisible):
            continue
        assert find_hidden_markers(row.response) == [], text
        assert to_closure(row.response).text == row.response, text
