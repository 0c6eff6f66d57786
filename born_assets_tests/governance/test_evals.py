"""Eval sets are what contamination control protects, so they must load exactly or fail clearly.

A registered eval set loads every item, every indexed text and every name a training row may
give its tasks; a broken one says which spec file and which field is wrong, without taking the
other eval sets down.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from born_assets.layout import DataDir
from born_assets.specs.common import SpecError
from born_assets.specs.evals import EvalSet, load_eval_set, load_eval_sets
from born_assets_tests.conftest import REPO

VALID = {
    "eval_id": "bench",
    "description": "test eval set",
    "benchmark_family": "bench",
    "file": "evals/bench.jsonl",
    "license": "MIT",
    "source": "written for the test",
    "id_field": "meta.id",
    "text_fields": ["question", "answer"],
    "generator_model": None,
    "derived_benchmarks": [{"family": "bench_plus", "id_format": "Bench/{id}"}],
}
ITEMS = (
    '{"meta": {"id": 1}, "question": "What is two plus two?", "answer": ["4", "four"]}\n'
    "\n"
    '{"meta": {"id": "b"}, "question": "Name a colour.", "answer": "red"}\n'
)


def write(folder: Path, document: object, items: str = ITEMS, name: str = "bench") -> Path:
    (folder / "evals").mkdir(parents=True, exist_ok=True)
    (folder / "evals" / "bench.jsonl").write_text(items)
    path = folder / "evals" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


def test_the_sample_eval_sets_load_with_every_item() -> None:
    loaded, errors = load_eval_sets(DataDir.at(REPO / "data"))
    assert errors == []
    by_id = {eval_set.eval_id: eval_set for eval_set in loaded}
    assert sorted(by_id) == ["humaneval", "mbpp"]
    humaneval, mbpp = by_id["humaneval"], by_id["mbpp"]
    assert [item.item_id for item in humaneval.items] == [f"HumanEval/{i}" for i in range(109)]
    assert [item.item_id for item in mbpp.items] == [str(i) for i in range(11, 511)]
    assert humaneval.spec.generator_model is None and mbpp.spec.generator_model is None
    assert humaneval.items[0].texts[0].startswith("from typing import List\n\n\ndef has_close_el")
    assert mbpp.items[0].texts[2].count("\n") == 2  # test_list: three asserts joined by newlines
    assert len(mbpp.data_sha256) == 64 and len(mbpp.content_hash) == 64


def test_an_item_is_named_by_its_family_and_by_every_derived_benchmark(tmp_path: Path) -> None:
    loaded = load_eval_set(write(tmp_path, VALID), DataDir.at(tmp_path))
    assert isinstance(loaded, EvalSet)
    assert [(i.item_id, i.line, i.texts) for i in loaded.items] == [
        ("1", 1, ("What is two plus two?", "4\nfour")),
        ("b", 3, ("Name a colour.", "red")),
    ]
    assert list(loaded.task_keys()) == [
        ("bench", "1", 0),
        ("bench_plus", "Bench/1", 0),
        ("bench", "b", 1),
        ("bench_plus", "Bench/b", 1),
    ]


@pytest.mark.parametrize(
    ("change", "items", "field", "words"),
    [
        ({"license": None}, ITEMS, "license", "valid string"),
        ({"generator_model": "__missing__"}, ITEMS, "generator_model", "required"),
        ({"eval_id": "other"}, ITEMS, "eval_id", "must match the file name ('bench')"),
        ({"eval_id": "Bad Id"}, ITEMS, "eval_id", "pattern"),
        ({"id_field": "meta..id"}, ITEMS, "id_field", "pattern"),
        ({"text_fields": []}, ITEMS, "text_fields", "at least 1"),
        ({"text_fields": ["question", "question"]}, ITEMS, "", "lists a field twice"),
        ({"surprise": 1}, ITEMS, "surprise", "Extra inputs"),
        (
            {"derived_benchmarks": [{"family": "x", "id_format": "X/{task}"}]},
            ITEMS,
            "derived_benchmarks.0.id_format",
            "{id}",
        ),
        ({"derived_benchmarks": [{"family": "bench", "id_format": "{id}"}]}, ITEMS, "", "repeats"),
        ({"file": "evals/missing.jsonl"}, ITEMS, "file", "not found"),
        ({}, "", "file", "evals/bench.jsonl holds no items"),
        ({}, '{"meta": {"id": 1}, "question": "q", "answer": "a"}\n{oops\n', "file", "line 2"),
        ({}, "[1, 2]\n", "file", "line 1: not a JSON object"),
        ({}, '{"question": "q", "answer": "a"}\n', "id_field", "line 1: no field 'meta.id'"),
        ({}, '{"meta": {"id": true}, "question": "q", "answer": "a"}\n', "id_field", "string or"),
        ({}, '{"meta": {"id": 1}, "question": "q"}\n', "text_fields[1]", "no field 'answer'"),
        ({}, '{"meta": {"id": 1}, "question": 3, "answer": "a"}\n', "text_fields[0]", "string"),
        ({}, ITEMS.replace('"b"', "1"), "id_field", "line 3: id '1' repeats line 1"),
    ],
)
def test_a_broken_eval_set_names_its_file_and_field(
    tmp_path: Path, change: dict[str, object], items: str, field: str, words: str
) -> None:
    document = {**VALID, **change}
    document = {k: v for k, v in document.items() if v != "__missing__"}
    path = write(tmp_path, document, items)
    error = load_eval_set(path, DataDir.at(tmp_path))
    assert isinstance(error, SpecError), error
    assert error.path == path
    assert error.field == field
    assert words in error.message
    assert str(error).startswith(f"{path}: ")


def test_not_yaml_and_not_a_mapping_are_errors_of_the_file(tmp_path: Path) -> None:
    for text, words in [("eval_id: [unclosed\n", "not valid YAML"), ("- a list\n", "mapping")]:
        error = load_eval_set(write(tmp_path, text), DataDir.at(tmp_path))
        assert isinstance(error, SpecError) and words in error.message


def test_one_broken_eval_set_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    broken = write(tmp_path, {**VALID, "eval_id": "broken", "license": ""}, name="broken")
    loaded, errors = load_eval_sets(DataDir.at(tmp_path))
    assert [eval_set.eval_id for eval_set in loaded] == ["bench"]
    assert [(e.path, e.field) for e in errors] == [(broken, "license")]
