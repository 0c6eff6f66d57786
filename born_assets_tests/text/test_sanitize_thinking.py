"""Hidden reasoning must never reach a released row, and visible text must never be lost with it.

Teachers and public traces write their reasoning inline in many shapes (`<think>`, `<thinking>`,
escaped, nested, unclosed, R1's pre-filled opener). Training a student on leaked reasoning
teaches it to print its scratchpad; stripping too much deletes the answer or, worse, code that
legitimately contains a `<think>` string. These tests pin the exact output for each shape, prove
that the release check (`find_hidden_markers`) agrees with the stripper on any input, and prove
that adversarial megabyte lines are handled in linear time (one catastrophic regex would stall
a run over millions of rows).
"""

from __future__ import annotations

import json
import random
import time

import pyarrow as pa
import pytest

from born_assets.sanitize.stage import hidden_markers
from born_assets.sanitize.turns import TurnStripStats, strip_turns
from born_assets.schemas.conversation import MESSAGES
from born_assets.text.thinking import (
    HIDDEN_TAGS,
    StripStats,
    code_ranges,
    find_hidden_markers,
    strip_thinking,
)
from born_assets.traces.conversation import Block, BlockKind, Role, Turn
from born_assets_tests.conftest import FIXTURES as FIXTURES_ROOT

FIXTURES = FIXTURES_ROOT / "traces"

STRIP_CASES = [
    # (input, expected visible text, hidden regions, characters removed)
    ("Plain answer.", "Plain answer.", 0, 0),
    ("<think>abc</think>\n\nAnswer", "Answer", 1, 20),
    ("Hello <think>x</think> world", "Hello world", 1, 17),
    ("Line one <think>x</think>\n\nLine two", "Line one \n\nLine two", 1, 16),
    ("para\n\n<think>x</think>\n\nnext", "para\n\nnext", 1, 18),
    ("a<think>x</think> b", "a b", 1, 16),
    ("<thinking>a</thinking>b", "b", 1, 22),
    ("<thought>a</thought>b", "b", 1, 20),
    ("<reasoning>a</reasoning>b", "b", 1, 24),
    ("<scratchpad>a</scratchpad>b", "b", 1, 26),
    ("a <THINK id='1'>x</Think> b", "a b", 1, 24),
    ('<think type="deep"\tlevel=2>x</think>y', "y", 1, 36),
    ("<think\n>x</think\n>y", "y", 1, 18),  # a line break is white space in a tag
    ('<think\n class="r">x</think>y', "y", 1, 27),
    ("&lt;think&gt;esc&lt;/think&gt;ok", "ok", 1, 30),
    ("&lt;think id=&quot;1&quot;&gt;esc&lt;/think&gt;ok", "ok", 1, 47),
    ("&#60;think&#62;x&#x3C;/think&#x3E;y", "y", 1, 34),
    ("<think>a<think>b</think>c</think>d", "d", 1, 33),
    ("<thinking>..<reflection>..</reflection>..</thinking>out", "out", 1, 52),
    ("<think>one</think>A <think>two</think>B", "A B", 2, 36),
    ("<think/>x", "x", 1, 8),
    ("<think />x", "x", 1, 9),
    # unclosed opener: the rest is hidden (R1 convention), no guessing at an answer
    ("Answer first. <think>then never closed\n\nFinal: 4", "Answer first. ", 1, 34),
    ("<think>never closed", "", 1, 19),
    # stray closer: everything before it was thinking (template pre-filled `<think>`)
    ("reasoning</think>\nAnswer", "Answer", 1, 18),
    ("<think>x</think>y</think>z", "z", 1, 25),
    # tags that only look alike stay
    ("<thinker>keep</thinker>", "<thinker>keep</thinker>", 0, 0),
    ("<think-tank>keep", "<think-tank>keep", 0, 0),
    ("I think > you think < we think", "I think > you think < we think", 0, 0),
    # non-ASCII around and inside
    ("héllo <think>ünï 思考</think>wörld ✓", "héllo wörld ✓", 1, 21),
    # removal that glues a new tag together hides from that tag on
    ("<thi<think>x</think>nk>y</think>z", "z", 1, 32),
]


@pytest.mark.parametrize(("text", "expected", "blocks", "chars"), STRIP_CASES)
def test_strip_thinking(text: str, expected: str, blocks: int, chars: int) -> None:
    assert strip_thinking(text) == (expected, StripStats(blocks, chars))
    assert find_hidden_markers(expected) == []


CODE_CASES = [
    "```\n<think>code</think>\n```\nafter",
    "```python\nprint('<think>')\n```",
    "~~~\n</think>\n~~~",
    "  ```xml\n  <reasoning>\n  ```",
    "use `<think>` tags and ``</think>`` too",
    "```\nunclosed fence <think> runs to the end",
]


@pytest.mark.parametrize("text", CODE_CASES)
def test_tags_in_code_survive(text: str) -> None:
    assert strip_thinking(text) == (text, StripStats())
    assert find_hidden_markers(text) == []


def test_code_and_hidden_regions_mix() -> None:
    text = "<think>draft ```x``` </think>Use `<think>`:\n```\n<think>\n```\nDone"
    assert strip_thinking(text) == ("Use `<think>`:\n```\n<think>\n```\nDone", StripStats(1, 29))


def test_inline_code_span_closes_on_its_line_only() -> None:
    assert code_ranges("a `b\nc` d") == []
    assert code_ranges("a `b` c ``d`` e") == [(2, 5), (8, 13)]


@pytest.mark.parametrize(
    ("text", "markers"),
    [
        ("clean", []),
        ("<think>x</think>", ["<think>", "</think>"]),
        ("&lt;THINKING a=1&gt;", ["&lt;THINKING a=1&gt;"]),
        ("`<think>` <reasoning/>", ["<reasoning/>"]),
    ],
)
def test_find_hidden_markers(text: str, markers: list[str]) -> None:
    assert find_hidden_markers(text) == markers


def test_hidden_tags_list() -> None:
    assert HIDDEN_TAGS == ("think", "thinking", "thought", "reasoning", "reflection", "scratchpad")


def test_real_r1_content_and_hermes_turn() -> None:
    openai_rows = (FIXTURES / "openai_chat_api.jsonl").read_text(encoding="utf-8").splitlines()
    content = json.loads(openai_rows[4])["response"]["choices"][0]["message"]["content"]
    visible, stats = strip_thinking(content)
    assert visible == (
        "The capital of France is **Paris**.  \n\nThat's correct! Paris is not only the political "
        "center but also the cultural, economic, and historical heart of France. 🇫🇷"
    )
    assert stats == StripStats(1, len(content) - len(visible))
    hermes = json.loads((FIXTURES / "sharegpt_hermes.jsonl").read_text(encoding="utf-8"))
    assert strip_thinking(hermes["conversations"][2]["value"])[0] == "Hello from HermesWith!"


def test_strip_turns_counts_each_kind() -> None:
    turns = (
        Turn(
            Role.ASSISTANT,
            (
                Block(BlockKind.THINKING, "plan"),
                Block(BlockKind.REDACTED_THINKING, ""),
                Block(BlockKind.TEXT, "<think>x</think>Answer"),
                Block(BlockKind.TOOL_CALL, '{"q": "<think>"}', name="search"),
            ),
        ),
        Turn(Role.TOOL, (Block(BlockKind.TOOL_RESULT, "<think>kept</think>"),)),
        Turn(Role.ASSISTANT, (Block(BlockKind.THINKING, "only hidden"),)),
        Turn(Role.ASSISTANT, (Block(BlockKind.TEXT, "<think>all hidden</think>  "),)),
    )
    visible, stats = strip_turns(turns)
    assert visible == (
        Turn(
            Role.ASSISTANT,
            (
                Block(BlockKind.TEXT, "Answer"),
                Block(BlockKind.TOOL_CALL, '{"q": "<think>"}', name="search"),
            ),
        ),
        Turn(Role.TOOL, (Block(BlockKind.TOOL_RESULT, "<think>kept</think>"),)),
    )
    assert stats == TurnStripStats(
        think_tags=StripStats(2, 43),
        thinking_blocks=StripStats(2, 15),
        redacted_thinking=StripStats(1, 0),
    )


MEGABYTE = 1_000_000
ADVERSARIAL = [
    pytest.param("x" * MEGABYTE, id="plain"),
    pytest.param("<think>" + "x" * MEGABYTE, id="unclosed"),
    pytest.param("&lt;think " * (MEGABYTE // 10), id="escaped-openers-without-closer"),
    pytest.param("<think " * (MEGABYTE // 7), id="raw-openers-without-closer"),
    pytest.param("<think " + "a" * MEGABYTE + ">", id="huge-attribute"),
    pytest.param("<think>a</think>" * (MEGABYTE // 16), id="many-regions"),
    pytest.param("<" * MEGABYTE, id="angle-brackets"),
    pytest.param("` " * (MEGABYTE // 2) + "<think>", id="backtick-runs"),
    pytest.param("```\n" * (MEGABYTE // 4) + "<think>", id="fence-lines"),
    pytest.param("`" * MEGABYTE + "<think>x</think>", id="one-backtick-run"),
]


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_megabyte_lines_are_linear(text: str) -> None:
    started = time.perf_counter()
    visible, stats = strip_thinking(text)
    assert find_hidden_markers(visible) == []
    assert stats.chars == len(text) - len(visible)
    # Quadratic behaviour on a 1 MB line takes minutes; linear takes well under a second.
    assert time.perf_counter() - started < 5.0


FRAGMENTS = [
    "<think>",
    "</think>",
    "<THINKING a='1'>",
    "<think\n>",
    "</reasoning>",
    "&lt;think&gt;",
    "&lt;/think&gt;",
    "<think/>",
    "<thi",
    "nk>",
    "`",
    "```",
    "\n",
    " ",
    "x",
    "é",
    "&",
    "<",
    ">",
    "/",
]


def fuzz_texts(count: int, seed: int = 20260101) -> list[str]:
    """Deterministic random concatenations of tag fragments (no example database on disk)."""
    rng = random.Random(seed)
    return ["".join(rng.choices(FRAGMENTS, k=rng.randrange(41))) for _ in range(count)]


def test_stripper_and_marker_check_agree() -> None:
    for text in fuzz_texts(3000):
        visible, stats = strip_thinking(text)
        assert find_hidden_markers(visible) == [], text
        assert stats.chars == len(text) - len(visible), text
        assert strip_thinking(visible) == (visible, StripStats()), text


def test_arrow_prefilter_misses_no_marker() -> None:
    """The sanitized check's RE2 pre-filter keeps every row `find_hidden_markers` flags."""
    texts = [*fuzz_texts(3000, seed=7), "&#X3C;Think&#62;", "<SCRATCHPAD\tid=1>"]
    batch = pa.RecordBatch.from_pydict(
        {
            "example_id": [str(i) for i in range(len(texts))],
            "prompt": ["p"] * len(texts),
            "response": texts,
            "messages": pa.array([[]] * len(texts), MESSAGES),
        }
    )
    expected = [str(i) for i, text in enumerate(texts) if find_hidden_markers(text)]
    assert len(expected) > 100
    assert [row["example_id"] for row in hidden_markers(batch)] == expected
