"""What a released closure says was observed is the same text every time the same row is run."""

from __future__ import annotations

from typing import Any

from born_assets.execution.observed import observed_sections


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "origin_kind": "lane",
        "execution_status": "failed",
        "tests_passed": 0,
        "tests_total": 1,
        "observed_harness": "mbpp_plus",
        "observed_command": "check(f)",
        "observed_reason": "assertion",
        "observed_detail": "AssertionError: <__main__.Node object at 0x7f3a2c1b9e50> != None",
        "observed_isolation": "bwrap",
        "observed_interpreter": "CPython 3.11.7",
        "duration_s": 0.13,  # a run's time, which the text must not depend on
    }
    return {**base, **changes}


def test_two_runs_of_one_row_read_the_same() -> None:
    first = observed_sections(row())
    again = observed_sections(row(
        duration_s=0.17,
        observed_detail="AssertionError: <__main__.Node object at 0x7f0012ab34cd> != None",
    ))  # fmt: skip
    assert first == again
    assert first is not None
    assert first[1] == (
        "Observed: failed, 0/1 tests passed (assertion: AssertionError: "
        "<__main__.Node object at 0x…> != None)."
    )
    assert observed_sections(row(execution_status="passed", tests_passed=1))[1] == (  # type: ignore[index]
        "Observed: passed, 1/1 tests passed."
    )
