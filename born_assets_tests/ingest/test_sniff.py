"""`born sniff` tells a user which format a file of unknown shape is, and what to write.

A new dataset arrives with no documentation of its shape. Guessing at build time would silently
misread it, so the build never guesses; instead `sniff` tries every format on the first records
and prints how many each adapts and the spec lines of the best reading. A wrong suggestion
would send a user to write a wrong spec, so the suggestions are pinned on real files.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from born_assets.cli.main import main
from born_assets.ingest.sniff import format_report, sniff
from born_assets_tests.conftest import FIXTURES

TRACES = FIXTURES / "traces"


@pytest.mark.parametrize(
    ("fixture", "reading"),
    [
        ("openai_tool_calls", ["format: openai_chat", "fields:", "  messages_field: traj"]),
        ("atropos_rollouts", ["format: scored_rollout_group", "options:", "  select: best_score"]),
        ("anthropic_messages", ["format: anthropic_messages"]),
        ("openai_chat_api", ["format: openai_chat_exchange"]),
        ("swe_agent_trajectories", ["format: swe_agent_trajectory"]),
        ("llamafactory_blocks", ["format: llamafactory_blocks"]),
        ("sharegpt_function_call", ["format: sharegpt"]),
    ],
)
def test_the_best_reading_of_real_files(fixture: str, reading: list[str]) -> None:
    report = sniff(TRACES / f"{fixture}.jsonl")
    best = report.outcomes[0]
    # Some fixture records are deliberately of a kind no text format takes (media parts).
    assert best.adapted > report.records // 2
    assert best.candidate.spec_lines()[: len(reading)] == reading


def test_a_rendered_chat_string_in_a_compressed_file(tmp_path: Path) -> None:
    text = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
    path = tmp_path / "rendered.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps({"id": "r1", "text": text}) + "\n").encode()))
    report = sniff(path)
    lines = format_report(report)
    assert report.outcomes[0].candidate.spec_lines() == [
        "format: chat_template",
        "options:",
        "  template: chatml",
    ]
    assert "  id_field: id" in lines
    assert "generated_at: {from: YYYY-MM-DD, to: YYYY-MM-DD}" in lines


def test_nothing_fits_says_why_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"question": 1}\nnot json\n')
    assert main(["sniff", str(path)]) == 1
    out = capsys.readouterr().out
    assert "unreadable record 2: not valid JSON" in out
    assert "no format adapts these records" in out
    assert "sharegpt: record 1: conversations: missing" in out
