"""A failed check says why in words: the failing column, how many, the first rows by file and line.

The UI shows a check's description next to its status; a reviewer should not have to open raw
JSON metadata to learn which rows broke which rule.
"""

from __future__ import annotations

import pyarrow as pa

from born_assets.defs.checks import in_words
from born_assets.sanitize.stage import hidden_markers
from born_assets.schemas.conversation import MESSAGES
from born_assets.schemas.derive import arrow_schema, validate_batches
from born_assets.schemas.fates import ExitRecord, exit_row
from born_assets.schemas.vocabulary import Fate, Stage


def _exit(example_id: str, line: int) -> dict[str, object]:
    source = {
        "example_id": example_id,
        "origin_kind": "lane",
        "origin_id": "mbpp-plus-reference",
        "source_file": "lanes/mbpp-plus-reference/part-000.jsonl",
        "source_line": line,
    }
    return exit_row(source, Fate.GATED_OUT, Stage.GATE, "too_short", None)


def test_a_schema_failure_names_the_column_the_count_and_the_row_with_its_file_and_line() -> None:
    rows = [_exit("ex_good", 1), {**_exit("ex_bad", 7), "fate": "vanished"}]
    table = pa.Table.from_pylist(rows, schema=arrow_schema(ExitRecord))
    report = validate_batches(ExitRecord, table.to_batches())
    assert report.failures == 1
    text = in_words(report.failures, "failures against ExitRecord", report.examples)
    assert text.startswith("1 failures against ExitRecord. First: ex_bad ")
    assert "(lanes/mbpp-plus-reference/part-000.jsonl line 7)" in text
    assert "column fate fails isin(" in text and "(value `'vanished'`)" in text


def test_a_passing_check_says_so_and_tuples_read_as_words() -> None:
    assert in_words(0, "rows with PII left", []) == "no rows with PII left"
    text = in_words(2, "duplicates whose survivor is not kept", [("ex_a", "ex_b"), ("ex_c", "x")])
    assert text == "2 duplicates whose survivor is not kept. First: ex_a ex_b; ex_c x"


def test_a_row_still_holding_hidden_reasoning_is_named_with_its_file_and_line() -> None:
    batch = pa.RecordBatch.from_pylist(
        [
            {**_exit("ex_clean", 3), "prompt": "p", "response": "done", "messages": []},
            {
                **_exit("ex_left", 9),
                "prompt": "p",
                "response": "<think>x</think> ok",
                "messages": [],
            },
        ],
        schema=pa.schema(
            [
                ("example_id", pa.string()),
                ("source_file", pa.string()),
                ("source_line", pa.int64()),
                ("prompt", pa.string()),
                ("response", pa.string()),
                ("messages", MESSAGES),
            ]
        ),
    )
    found = hidden_markers(batch)
    text = in_words(len(found), "rows still holding hidden markers", found)
    assert text.startswith("1 rows still holding hidden markers. First: ex_left ")
    assert "(lanes/mbpp-plus-reference/part-000.jsonl line 9): markers `['<think>'" in text
