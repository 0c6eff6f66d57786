"""The identity of a row must not drift: prompt hashes are exact and example ids are stable."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from born_assets.schemas.identity import example_id, parse_utc_timestamp, prompt_hash


@pytest.mark.parametrize(
    "prompt",
    ["def f():\n    pass\n", "def f():\n    pass", "  café ✓ \r\n", ""],
)
def test_prompt_hash_is_sha256_of_the_exact_utf8_bytes(prompt: str) -> None:
    assert prompt_hash(prompt) == hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def test_prompt_hash_does_not_normalize_whitespace_or_line_endings() -> None:
    assert prompt_hash("a\n") != prompt_hash("a")
    assert prompt_hash("a\r\n") != prompt_hash("a\n")


def test_prompt_hash_refuses_a_lone_surrogate() -> None:
    with pytest.raises(UnicodeEncodeError):
        prompt_hash("\ud800")


def test_example_id_depends_on_content_not_position() -> None:
    one = example_id("lane", "l1", "T/1", "a" * 64, "resp")
    assert one == example_id("lane", "l1", "T/1", "a" * 64, "resp")
    assert one.startswith("ex_") and len(one) == 27
    assert one != example_id("lane", "l2", "T/1", "a" * 64, "resp")
    assert one != example_id("lane", "l1", "T/1", "a" * 64, "resp ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-17T03:34:22Z", datetime(2026, 2, 17, 3, 34, 22, tzinfo=UTC)),
        ("2026-02-17T05:34:22+02:00", datetime(2026, 2, 17, 3, 34, 22, tzinfo=UTC)),
        ("2021-12-15T15:04:13.123456z", datetime(2021, 12, 15, 15, 4, 13, 123456, tzinfo=UTC)),
    ],
)
def test_timestamps_are_converted_to_utc(text: str, expected: datetime) -> None:
    assert parse_utc_timestamp(text) == expected


@pytest.mark.parametrize("text", ["2026-02-17 03:34:22", "yesterday", ""])
def test_ambiguous_or_invalid_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_utc_timestamp(text)
