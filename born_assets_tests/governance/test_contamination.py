"""A training row that contains or claims an eval item falsifies every score on that eval set.

So each check must catch what it promises (exact text, quoted n-grams, task ids, a shared
generator) with exact, reproducible numbers, and must not catch what it must not: a paraphrase
is new text, not a leak. The real sample lanes must show the contamination they really hold.
"""

from __future__ import annotations

import json
import pickle
import re
from collections import deque
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from born_assets.governance.contamination import (
    CONTAMINATION_READ_COLUMNS,
    ContaminationResult,
    _batch_work,
    scan_contamination,
    stream_contamination,
)
from born_assets.governance.contamination_report import GeneratorOverlap
from born_assets.governance.ngrams import NgramIndex
from born_assets.layout import DataDir
from born_assets.schemas.derive import validate_batches
from born_assets.schemas.governance import (
    ContaminationMatchRecord,
    ContaminationReportRecord,
    ContaminationVerdictRecord,
)
from born_assets.schemas.vocabulary import ContaminationMethod
from born_assets.specs.evals import EvalSet, load_eval_sets
from born_assets.specs.model_families import GeneratorOverlapAction, ModelFamilyRules
from born_assets.specs.policy import ContaminationPolicy, Policy, PolicyError
from born_assets.store.parquet import ParquetSink
from born_assets.text.words import normalize_text, text_words
from born_assets_tests.conftest import FIXTURES as FIXTURES_ROOT
from born_assets_tests.conftest import REPO

FIXTURES = FIXTURES_ROOT / "contamination"


def fixture_evals() -> list[EvalSet]:
    loaded, errors = load_eval_sets(DataDir.at(FIXTURES))
    assert errors == []
    return loaded


def fixture_rows() -> pa.Table:
    lines = (FIXTURES / "training.jsonl").read_text().splitlines()
    rows = [{k: v for k, v in json.loads(line).items() if k != "case"} for line in lines]
    return pa.Table.from_pylist(rows).select(CONTAMINATION_READ_COLUMNS)


def scan(policy: ContaminationPolicy | None = None, batch_rows: int = 100) -> ContaminationResult:
    rows = fixture_rows()
    return scan_contamination(
        rows.to_batches(max_chunksize=batch_rows), fixture_evals(), policy or ContaminationPolicy()
    )


def verdicts_by_id(result: ContaminationResult) -> dict[str, dict[str, object]]:
    return {row["example_id"]: row for row in result.verdicts.to_pylist()}


# example_id: (ngram_count, overlap_fraction, method, eval_id, eval_item_id, eval_field)
EXPECTED = {
    "ex_quoted": (66, 1.0, "ngram", "humaneval-mini", "HumanEval/0", "prompt"),
    "ex_exact": (33, 1.0, "exact_prompt", "humaneval-mini", "HumanEval/2", "prompt"),
    "ex_paraphrase": (56, 0.0, None, None, None, None),
    "ex_toy17": (9, 0.625, "ngram", "toy", "7", "question"),
    "ex_toy15": (7, 0.375, None, None, None, None),
    "ex_toy13": (5, 0.125, None, None, None, None),
    "ex_toysplit": (0, 0.0, None, None, None, None),
    "ex_taskleak": (0, 0.0, "task_id", "humaneval-mini", "HumanEval/1", None),
    "ex_derivedleak": (0, 0.0, "task_id", "toy", "7", None),
    "ex_otherid": (0, 0.0, None, None, None, None),
    "ex_gen1": (0, 0.0, "generator_overlap", "generated", "gpt-5-mini", "generator_model"),
    "ex_gen2": (0, 0.0, "generator_overlap", "generated", "gpt-5-mini", "generator_model"),
    "ex_gen3": (0, 0.0, None, None, None, None),
}
COLUMNS = ("ngram_count", "overlap_fraction", "method", "eval_id", "eval_item_id", "eval_field")


@pytest.mark.parametrize("example_id", list(EXPECTED))
def test_each_fixture_row_gets_its_exact_verdict(example_id: str) -> None:
    row = verdicts_by_id(scan())[example_id]
    assert tuple(row[c] for c in COLUMNS) == EXPECTED[example_id]
    assert row["is_contaminated"] is (EXPECTED[example_id][2] is not None)


def test_every_match_is_kept_as_evidence_deciding_match_first() -> None:
    matches = [
        (m["example_id"], m["eval_id"], m["eval_item_id"], m["eval_field"], m["method"])
        + (m["overlap_fraction"],)
        for m in scan().matches.to_pylist()
    ]
    assert matches == [
        ("ex_quoted", "humaneval-mini", "HumanEval/0", "prompt", "ngram", 1.0),
        ("ex_exact", "humaneval-mini", "HumanEval/2", "prompt", "exact_prompt", None),
        ("ex_exact", "humaneval-mini", "HumanEval/2", "canonical_solution", "exact_response", None),
        ("ex_exact", "humaneval-mini", "HumanEval/2", "prompt", "ngram", 1.0),
        ("ex_toy17", "toy", "7", "question", "ngram", 0.625),
        ("ex_taskleak", "humaneval-mini", "HumanEval/1", None, "task_id", None),
        ("ex_derivedleak", "toy", "7", None, "task_id", None),
        ("ex_gen1", "generated", "gpt-5-mini", "generator_model", "generator_overlap", None),
        ("ex_gen2", "generated", "gpt-5-mini", "generator_model", "generator_overlap", None),
    ]


def test_the_ngram_verdict_records_the_policy_that_decided() -> None:
    rows = verdicts_by_id(scan())
    assert rows["ex_toy17"]["threshold"] == (
        "contamination.min_overlap_fraction=0.5, contamination.ngram_size=13"
    )
    assert rows["ex_exact"]["threshold"] is None
    flags = {k: v for k, v in rows["ex_exact"].items() if str(k).startswith("has_")}
    assert flags == {
        "has_exact_prompt_match": True,
        "has_exact_response_match": True,
        "has_ngram_match": True,
        "has_task_id_match": False,
        "has_generator_overlap_match": False,
        "has_similar_match": False,
    }


def test_a_paraphrase_does_not_match_and_shares_no_13_gram() -> None:
    """The paraphrase copies HumanEval/0's 12-word example list verbatim: one word short of 13.

    With n = 12 that run is 1 of the 45 distinct 12-grams of the 56-word eval prompt.
    """
    strict = verdicts_by_id(scan())["ex_paraphrase"]
    assert strict["is_contaminated"] is False and strict["overlap_fraction"] == 0.0
    loose = verdicts_by_id(scan(ContaminationPolicy(ngram_size=12)))["ex_paraphrase"]
    assert loose["overlap_fraction"] == round(1 / 45, 6)
    assert loose["is_contaminated"] is False


def test_the_threshold_comes_from_policy() -> None:
    rows = verdicts_by_id(scan(ContaminationPolicy(min_overlap_fraction=0.375)))
    assert rows["ex_toy15"]["method"] == "ngram" and rows["ex_toy15"]["eval_item_id"] == "7"
    assert rows["ex_toy13"]["is_contaminated"] is False


def test_a_generator_overlap_compares_families_and_is_only_reported_when_policy_says() -> None:
    policy = ContaminationPolicy(generator_overlap=GeneratorOverlapAction.REPORT)
    result = scan(policy)
    assert result.generator_overlaps == [
        GeneratorOverlap("generated", "gpt-5-mini", 2, ("lane-d",), ("ex_gen1", "ex_gen2"))
    ]
    assert "generated 2 training row(s) in lane-d" in str(result.generator_overlaps[0])
    assert not any(verdicts_by_id(result)[i]["is_contaminated"] for i in ("ex_gen1", "ex_gen2"))


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("openai/GPT-4o", "gpt-4o"),
        ("chatgpt-4o-latest", "gpt-4o"),
        ("gpt-4-0613", "gpt-4"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        (" ", None),
    ],
)
def test_model_names_normalize_to_families(model: str, family: str | None) -> None:
    assert ModelFamilyRules().family(model) == family


def test_a_bad_family_rule_names_the_policy_key() -> None:
    text = (REPO / "data" / "policy.yaml").read_text().replace("- '-latest$'", "- '('")
    with pytest.raises(PolicyError, match=r"contamination.model_families.strip_suffixes\[5\]"):
        Policy.from_yaml(text, source="policy.yaml")


def test_the_report_counts_per_eval_set_and_source() -> None:
    report = {(r["eval_id"], r["origin_id"]): r for r in scan().report.to_pylist()}
    assert len(report) == 3 * 4
    counted = ["rows_checked", "rows_matched", "rows_excluded", "exact_prompt_rows"]
    counted += ["exact_response_rows", "ngram_rows", "task_id_rows", "generator_overlap_rows"]
    expected = {
        ("humaneval-mini", "lane-a"): [3, 2, 2, 1, 1, 2, 0, 0],
        ("humaneval-mini", "lane-c"): [3, 1, 1, 0, 0, 0, 1, 0],
        ("toy", "lane-b"): [4, 1, 1, 0, 0, 1, 0, 0],
        ("toy", "lane-c"): [3, 1, 1, 0, 0, 0, 1, 0],
        ("generated", "lane-d"): [3, 2, 2, 0, 0, 0, 0, 2],
    }
    for key, row in report.items():
        checked = {"lane-a": 3, "lane-b": 4, "lane-c": 3, "lane-d": 3}[key[1]]
        assert [row[c] for c in counted] == expected.get(key, [checked, 0, 0, 0, 0, 0, 0, 0])
    toy = report[("toy", "lane-b")]
    assert toy["max_overlap_fraction"] == 0.625
    assert json.loads(toy["top_matches"]) == [
        {
            "example_id": "ex_toy17",
            "eval_item_id": "7",
            "eval_field": "question",
            "method": "ngram",
            "overlap_fraction": 0.625,
        }
    ]
    top = json.loads(report[("humaneval-mini", "lane-a")]["top_matches"])
    assert [(m["example_id"], m["method"]) for m in top] == [
        ("ex_exact", "exact_prompt"),
        ("ex_quoted", "ngram"),
    ]


def test_results_do_not_depend_on_the_batch_size() -> None:
    whole, single = scan(batch_rows=100), scan(batch_rows=1)
    assert single.verdicts.equals(whole.verdicts)
    assert single.matches.equals(whole.matches)
    assert single.report.equals(whole.report)


def test_the_outputs_satisfy_their_schemas() -> None:
    result = scan()
    for model, table in [
        (ContaminationVerdictRecord, result.verdicts),
        (ContaminationMatchRecord, result.matches),
        (ContaminationReportRecord, result.report),
    ]:
        report = validate_batches(model, table.to_batches())
        assert report.passed, report.examples


def test_missing_input_columns_are_named() -> None:
    with pytest.raises(KeyError, match="generator_model"):
        scan_contamination(
            [fixture_rows().drop(["generator_model"])], fixture_evals(), ContaminationPolicy()
        )


@pytest.mark.parametrize(
    ("text", "normalized", "words"),
    [
        ("  Hello\r\n\tWORLD  ", "hello world", [b"hello", b"world"]),
        ("a+b == a + b", "a+b == a + b", [b"a", b"b", b"a", b"b"]),
        ("\ufb01le \uff21\uff22 x\u00a0y", "file ab x y", [b"file", b"ab", b"x", b"y"]),
        ("Stra\u00dfe \u201cq\u201d \u2014 x_\u00ef", "strasse \u201cq\u201d \u2014 x_\u00ef",
         [b"strasse", b"q", "x_\u00ef".encode()]),
        ("snake_case2 3.14", "snake_case2 3.14", [b"snake_case2", b"3", b"14"]),
    ],
)  # fmt: skip
def test_normalization_and_words(text: str, normalized: str, words: list[bytes]) -> None:
    assert normalize_text(text) == normalized
    assert text_words(normalize_text(text)) == words


@given(st.text(max_size=60))
def test_words_are_exactly_the_w_runs_of_the_normalized_text(text: str) -> None:
    normalized = normalize_text(text)
    assert text_words(normalized) == [w.encode() for w in re.findall(r"\w+", normalized)]


WORDS = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=12).map(" ".join)


@given(st.lists(WORDS, min_size=1, max_size=4), st.lists(st.tuples(WORDS, WORDS), max_size=4))
def test_ngram_overlaps_equal_a_brute_force_count(evals: list[str], docs: list[tuple[str, str]]):
    n = 3
    index = NgramIndex(evals, n)

    def grams(text: str) -> set[tuple[str, ...]]:
        words = text.split()
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    found = index.overlaps(docs)
    got = {
        (d, k): s
        for d, k, s in zip(
            found.docs.tolist(), found.keys.tolist(), found.shared.tolist(), strict=True
        )
    }
    expected = {}
    for d, (prompt, response) in enumerate(docs):
        for k, text in enumerate(evals):
            shared = len(grams(text) & (grams(prompt) | grams(response)))
            if shared:
                expected[(d, k)] = shared
    assert got == expected
    assert index.text_ngram_counts.tolist() == [len(grams(text)) for text in evals]
    counts = [max(0, len(p.split()) - n + 1) + max(0, len(r.split()) - n + 1) for p, r in docs]
    assert found.ngram_counts.tolist() == counts


def sample_rows() -> pa.Table:
    """The real sample lanes, read straight from their JSONL (first file of each lane)."""
    rows = []
    for path in sorted((REPO / "data" / "lanes").glob("*/part-000.jsonl")):
        lane = path.parent.name
        manifest = yaml.safe_load((REPO / "data" / "manifests" / f"{lane}.yaml").read_text())
        for line in path.read_text().splitlines():
            record = json.loads(line)
            rows.append(
                {
                    "example_id": f"{lane}:{record['task_id']}",
                    "origin_id": lane,
                    "source_benchmark": manifest["benchmark_family"],
                    "source_id": record["task_id"],
                    "prompt": record["prompt"],
                    "response": record["response"],
                    "generator_model": record.get("teacher_model"),
                }
            )
    return pa.Table.from_pylist(rows).select(CONTAMINATION_READ_COLUMNS)


def test_the_sample_lanes_show_their_real_contamination() -> None:
    eval_sets, errors = load_eval_sets(DataDir.at(REPO / "data"))
    assert errors == []
    rows = sample_rows()
    result = scan_contamination(
        rows.to_batches(max_chunksize=128), eval_sets, ContaminationPolicy()
    )
    verdicts = result.verdicts.to_pylist()
    assert len(verdicts) == rows.num_rows
    humaneval = [v for v in verdicts if v["origin_id"] == "humaneval-reference"]
    assert humaneval and all(
        v["is_contaminated"] and v["eval_id"] == "humaneval" and v["method"] == "exact_prompt"
        and v["has_exact_response_match"] and v["has_task_id_match"]
        for v in humaneval
    )  # fmt: skip
    for v in verdicts:
        if v["origin_id"] == "mbpp-plus-reference":
            number = int(str(v["example_id"]).rsplit("/", 1)[1])
            assert v["has_task_id_match"] is (11 <= number <= 510)
        elif v["origin_id"] != "humaneval-reference":
            assert not v["is_contaminated"], v
    report = {(r["eval_id"], r["origin_id"]): r for r in result.report.to_pylist()}
    cell = report[("humaneval", "humaneval-reference")]
    assert cell["rows_excluded"] == cell["rows_checked"] == len(humaneval)
    assert result.generator_overlaps == []


def test_streaming_writes_the_tables_through_parquet_sinks(tmp_path: Path) -> None:
    verdicts_path, matches_path = tmp_path / "verdicts.parquet", tmp_path / "matches.parquet"
    with (
        ParquetSink(verdicts_path, ContaminationVerdictRecord, batch_rows=4) as verdicts,
        ParquetSink(matches_path, ContaminationMatchRecord, batch_rows=4) as matches,
    ):
        summary = stream_contamination(
            fixture_rows().to_batches(max_chunksize=4),
            fixture_evals(),
            ContaminationPolicy(),
            verdicts,
            matches,
        )
    assert summary.rows_checked == 13
    assert summary.excluded_by_method == {
        ContaminationMethod.EXACT_PROMPT: 1,
        ContaminationMethod.EXACT_RESPONSE: 0,
        ContaminationMethod.NGRAM: 2,
        ContaminationMethod.TASK_ID: 2,
        ContaminationMethod.GENERATOR_OVERLAP: 2,
        ContaminationMethod.SIMILAR: 0,
    }
    in_memory = scan()
    assert pq.read_table(verdicts_path).to_pylist() == in_memory.verdicts.to_pylist()
    assert pq.read_table(matches_path).to_pylist() == in_memory.matches.to_pylist()


def test_an_eval_text_shorter_than_n_words_is_matched_only_exactly() -> None:
    """Toy item 8's question has 9 words: no 13-gram, so only the exact check can see it."""
    short = "Short question with nine words and no n-grams."
    base = {
        "origin_id": "lane-e",
        "source_benchmark": "mixed",
        "response": "",
        "generator_model": None,
    }
    rows = pa.Table.from_pylist(
        [
            {**base, "example_id": "ex_alone", "source_id": "s1", "prompt": f"  {short.upper()} "},
            {**base, "example_id": "ex_inside", "source_id": "s2", "prompt": f"Q: {short} Go."},
        ]
    ).select(CONTAMINATION_READ_COLUMNS)
    result = scan_contamination([rows], fixture_evals(), ContaminationPolicy())
    found = verdicts_by_id(result)
    alone, inside = found["ex_alone"], found["ex_inside"]
    assert (alone["method"], alone["eval_id"], alone["eval_item_id"]) == (
        "exact_prompt",
        "toy",
        "8",
    )
    assert alone["ngram_count"] == 0
    assert inside["is_contaminated"] is False and inside["overlap_fraction"] == 0.0


def test_a_batch_goes_to_a_worker_without_the_table_it_was_cut_from() -> None:
    """A pickled Arrow slice carries every buffer of its table; what a worker gets is a copy."""
    rows = sample_rows()
    whole = pa.concat_tables([rows] * 20).combine_chunks()
    batch = whole.slice(0, 10)  # as `store.texts.rebatched` hands them out
    pending: deque[Any] = deque()
    ((read, fresh),) = _batch_work([batch], None, pending)
    assert read.to_pylist() == batch.to_pylist() and fresh.all()
    assert len(pickle.dumps(read)) * 50 < len(pickle.dumps(whole)) <= len(pickle.dumps(batch)) + 100
