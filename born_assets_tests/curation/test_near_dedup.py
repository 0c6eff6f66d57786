"""Near-dedup removes training rows for good: it must catch copies and never unrelated rows.

Planted copies of real rows (reformatted, reworded, renamed; see `born_assets_tests.planted`) are
measured at the policy's settings: reformatting is always caught, unrelated real tasks never
collide, and the survivor rule holds whatever the input order (each removed row names a kept row
at least `near_dedup.threshold` similar to it).
"""

import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.curation.dedup import dedup_prompts
from born_assets.curation.near_dedup import (
    SIGNATURE_COLUMNS,
    band_keys,
    decide_sharing,
    find_near_duplicates,
    near_decisions,
    sign_batch,
)
from born_assets.specs.policy import Policy
from born_assets.specs.similarity_policy import TextField
from born_assets.store.memo import RowMemo
from born_assets.store.row_groups import GroupWriter, ParquetGroups
from born_assets.text.dialogue import dialogue_text
from born_assets.text.minhash import Signatures, sign
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import lane_rows, near_dedup_quality, planted_copy


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(SAMPLE_DATA / "policy.yaml")


def _ranked(survivors: pa.Table, policy: Policy) -> pa.Table:
    """Exact survivors as the stage hands them to near-dedup: ranked, with tasks, by id."""
    ranked = dedup_prompts(survivors, policy).select(["example_id", "survivor_rank"])
    if "task" in survivors.column_names:
        ranked = ranked.join(survivors.select(["example_id", "task"]), "example_id")
    return ranked.sort_by("example_id")


def test_planted_copies_at_the_policy_threshold(policy: Policy) -> None:
    quality = near_dedup_quality(policy)
    assert quality["reformatted"]["recall"] == 1.0
    # Measured floors (docs/similarity.md): 5-word shingles at 0.8 catch few heavy rewordings.
    assert quality["reworded"]["recall"] >= 0.05
    assert quality["renamed"]["recall"] >= 0.05
    assert all(q["false_positive_rate"] == 0.0 for q in quality.values())


def test_survivors_do_not_depend_on_input_order(policy: Policy) -> None:
    rows = lane_rows()[:40]
    rows += [planted_copy(r, "reformatted", 1) for r in rows[:10]]
    rows += [planted_copy(r, "reformatted", 2) for r in rows[:10]]
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    ranks = np.array(random.Random(3).sample(range(len(rows)), len(rows)), dtype=np.int64)

    def decide(order: list[int]) -> dict[str, str | None]:
        signatures = sign([[rows[i].prompt, rows[i].response] for i in order], params)
        found = find_near_duplicates(signatures, ranks[order], policy)
        return {
            rows[order[n]].row_id: rows[order[j]].row_id if j >= 0 else None
            for n, j in enumerate(found.duplicate_of.tolist())
        }

    first = decide(list(range(len(rows))))
    shuffled = list(range(len(rows)))
    random.Random(5).shuffle(shuffled)
    assert decide(shuffled) == first
    removed = {k: v for k, v in first.items() if v is not None}
    assert len(removed) == 20  # both copies of each of the 10 rows go; the best-ranked stays
    assert all(first[survivor] is None for survivor in removed.values())


def test_a_removed_row_is_similar_enough_to_its_survivor(policy: Policy) -> None:
    rows = lane_rows()[:30]
    rows += [planted_copy(r, "reformatted", 1) for r in rows[:5]]
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    signatures = sign([[r.prompt, r.response] for r in rows], params)
    found = find_near_duplicates(signatures, np.arange(len(rows), dtype=np.int64), policy)
    for row, survivor in enumerate(found.duplicate_of.tolist()):
        if survivor >= 0:
            assert found.similarity[row] >= policy.near_dedup.threshold
            assert found.duplicate_of[survivor] == -1
    assert found.counts().sum() == np.count_nonzero(found.duplicate_of >= 0) == 5


def test_an_empty_text_is_similar_to_nothing(policy: Policy) -> None:
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    signatures = sign([["", " \n\t "], ["", ""], ["a b c d e f", ""]], params)
    assert signatures.empty.tolist() == [True, True, False]
    found = find_near_duplicates(signatures, np.arange(3, dtype=np.int64), policy)
    assert found.duplicate_of.tolist() == [-1, -1, -1]


def test_different_tasks_of_one_benchmark_are_never_near_duplicates(policy: Policy) -> None:
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    text = "Return the sum of the even numbers of a list, and raise ValueError when it is empty."
    rows = [[text, "def f(xs): return sum(x for x in xs if x % 2 == 0)"]] * 3
    signatures = sign(rows, params)
    ranks = np.arange(3, dtype=np.int64)
    lanes = ["humaneval:HumanEval/56", "humaneval:HumanEval/61", "humaneval:HumanEval/56"]
    found = find_near_duplicates(signatures, ranks, policy, lanes)
    assert found.duplicate_of.tolist() == [-1, -1, 0]  # the same task twice still is one
    imports = [None, None, "humaneval:HumanEval/61"]
    found = find_near_duplicates(signatures, ranks, policy, imports)
    assert found.duplicate_of.tolist() == [-1, 0, 0]  # import rows carry no task id
    off = policy.model_copy(
        update={"near_dedup": policy.near_dedup.model_copy(update={"distinct_task_ids": False})}
    )
    assert find_near_duplicates(signatures, ranks, off, lanes).duplicate_of.tolist() == [-1, 0, 0]


def test_near_decisions_read_each_rows_task_whatever_the_order(
    policy: Policy, tmp_path: Path
) -> None:
    text = "Return the sum of the even numbers of a list, and raise ValueError when it is empty."
    tasks = ["humaneval:HumanEval/56", "humaneval:HumanEval/61", "humaneval:HumanEval/56", None]
    survivors = pa.table(  # not in id order: the tasks must follow their ids, not positions
        {
            "example_id": ["ex_d", "ex_b", "ex_c", "ex_a"],
            "prompt_hash": [f"{n:064x}" for n in range(4)],
            "curation_score": [1.0, 0.9, 0.8, 0.7],
            "lane_priority": [1] * 4,
            "generation_timestamp": ["2026-01-01T00:00:00Z"] * 4,
            "task": tasks,
        }
    )
    texts = tmp_path / "texts.parquet"
    pq.write_table(
        pa.table({"example_id": ["ex_c", "ex_a", "ex_d", "ex_b"], "prompt": [text] * 4}), texts
    )
    only_prompt = policy.model_copy(
        update={"near_dedup": policy.near_dedup.model_copy(update={"fields": (TextField.PROMPT,)})}
    )
    empty = RowMemo(None, SIGNATURE_COLUMNS)
    ranked = _ranked(survivors, only_prompt)
    found, _ = near_decisions(ranked, [texts], only_prompt, 2, empty, tmp_path / "s.parquet")
    # Ranked by score: ex_d (HumanEval/56) stays, ex_b (HumanEval/61) is another task and stays,
    # ex_c (HumanEval/56 again) and ex_a (an import's row, no task) are ex_d's near copies.
    assert found.column("example_id").to_pylist() == ["ex_a", "ex_b", "ex_c", "ex_d"]
    assert found.column("near_duplicate_of").to_pylist() == ["ex_d", None, "ex_d", None]
    assert found.column("near_duplicate_count").to_pylist() == [0, 0, 0, 2]


def test_the_dialogue_leaves_out_system_turns_and_keeps_tool_calls() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "a long shared policy"},
        {"role": "user", "content": "cancel my flight"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"function": {"name": "cancel", "arguments": '{"id": "X1"}'}}],
        },
        {"role": "tool", "content": "cancelled", "tool_call_id": "c1"},
    ]
    assert dialogue_text(messages) == 'cancel my flight\n\ncancel {"id": "X1"}\n\ncancelled'
    assert dialogue_text(None) == ""


def test_rows_sharing_only_a_system_prompt_are_not_near_duplicates(policy: Policy) -> None:
    system = {"role": "system", "content": " ".join(f"rule {i} says something" for i in range(300))}
    rows = [
        [system, {"role": "user", "content": f"question {i} about topic {i * 7}"},
         {"role": "assistant", "content": f"an answer of its own, number {i}, value {i * 13}"}]
        for i in range(20)
    ]  # fmt: skip
    batch = pa.RecordBatch.from_pylist(
        [
            {"example_id": f"ex_{i}", "messages": m, "prompt": system["content"]}
            for i, m in enumerate(rows)
        ]  # fmt: skip
    )
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    for fields, expected_removed in (((TextField.DIALOGUE,), 0), ((TextField.PROMPT,), 19)):
        _, signatures = sign_batch(fields, params, batch)
        found = find_near_duplicates(signatures, np.arange(20), policy, [None] * 20)
        assert int((found.duplicate_of >= 0).sum()) == expected_removed


def test_near_decisions_do_not_depend_on_the_texts_order_nor_on_the_memo(
    policy: Policy, tmp_path: Path
) -> None:
    rows = lane_rows()[:30]
    rows += [planted_copy(r, "reformatted", 1) for r in rows[:8]]
    fields = (TextField.PROMPT, TextField.RESPONSE)
    policy = policy.model_copy(
        update={"near_dedup": policy.near_dedup.model_copy(update={"fields": fields})}
    )
    rng = random.Random(7)
    survivors = pa.table(
        {
            "example_id": [f"ex_{n:02d}" for n in range(len(rows))],
            "prompt_hash": [f"{n:064x}" for n in range(len(rows))],
            "curation_score": [rng.choice([0.5, 0.75, 1.0]) for _ in rows],
            "lane_priority": [100] * len(rows),
            "generation_timestamp": ["2026-01-01T00:00:00Z"] * len(rows),
        }
    )
    texts = pa.table(
        {
            "example_id": survivors.column("example_id"),
            "prompt": [r.prompt for r in rows],
            "response": [r.response for r in rows],
        }
    )
    # The expected decisions, computed on the rows in id order.
    ranks = dedup_prompts(survivors, policy).column("survivor_rank").to_numpy()
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    expected = find_near_duplicates(
        sign([[r.prompt, r.response] for r in rows], params), ranks, policy
    )
    ids = survivors.column("example_id").to_pylist()
    assert int((expected.duplicate_of >= 0).sum()) == 8

    def decide(order: list[int], name: str, memo: RowMemo) -> tuple[pa.Table, int]:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(texts.take(order), path, row_group_size=5)
        out = tmp_path / f"{name}-signatures.parquet"
        return near_decisions(_ranked(survivors, policy), [path], policy, 4, memo, out)

    empty = RowMemo(None, SIGNATURE_COLUMNS)
    in_order, signed = decide(list(range(len(rows))), "in-order", empty)
    assert signed == 0
    assert in_order.column("example_id").to_pylist() == ids
    assert in_order.column("near_duplicate_of").to_pylist() == [
        ids[j] if j >= 0 else None for j in expected.duplicate_of.tolist()
    ]
    assert in_order.column("near_duplicate_count").to_pylist() == expected.counts().tolist()
    shuffled = list(range(len(rows)))
    rng.shuffle(shuffled)
    assert decide(shuffled, "shuffled", empty)[0].equals(in_order)
    memo = RowMemo(tmp_path / "shuffled-signatures.parquet", SIGNATURE_COLUMNS)
    remembered, count = decide(shuffled[::-1], "remembered", memo)
    assert count == len(rows)
    assert remembered.equals(in_order)
    # A memo that knows every other row: the signatures come out in the texts' order, as a
    # build from scratch writes them, not the new rows of each batch first.
    fresh = pq.read_table(tmp_path / "in-order-signatures.parquet")
    half = fresh.filter(pa.array([i % 2 == 0 for i in range(fresh.num_rows)]))
    pq.write_table(half, tmp_path / "half.parquet")
    mixed, count = decide(
        list(range(len(rows))), "mixed", RowMemo(tmp_path / "half.parquet", SIGNATURE_COLUMNS)
    )
    assert count == half.num_rows and mixed.equals(in_order)
    assert pq.read_table(tmp_path / "mixed-signatures.parquet").equals(fresh)


def test_the_known_rows_signatures_before_new_rows_are_copied_as_bytes(
    policy: Policy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = lane_rows()[:30]
    fields = (TextField.PROMPT, TextField.RESPONSE)
    policy = policy.model_copy(
        update={"near_dedup": policy.near_dedup.model_copy(update={"fields": fields})}
    )
    ids = [f"ex_{n:02d}" for n in range(len(rows))]
    survivors = pa.table(
        {
            "example_id": ids,
            "prompt_hash": [f"{n:064x}" for n in range(len(rows))],
            "curation_score": [0.5] * len(rows),
            "lane_priority": [100] * len(rows),
            "generation_timestamp": ["2026-01-01T00:00:00Z"] * len(rows),
        }
    )
    texts = pa.table(
        {
            "example_id": ids,
            "prompt": [r.prompt for r in rows],
            "response": [r.response for r in rows],
        }
    )
    copied: list[int] = []
    copy = GroupWriter.copy

    def counted(writer: GroupWriter, source: ParquetGroups, index: int) -> None:
        copied.append(index)
        copy(writer, source, index)

    monkeypatch.setattr(GroupWriter, "copy", counted)

    def signatures(count: int, name: str, memo: RowMemo) -> Path:
        path = tmp_path / f"{name}.parquet"
        pq.write_table(texts.slice(0, count), path, row_group_size=5)
        out = tmp_path / f"{name}-signatures.parquet"
        ranked = _ranked(survivors.slice(0, count), policy)
        near_decisions(ranked, [path], policy, 4, memo, out)
        return out

    first = signatures(22, "first", RowMemo(None, SIGNATURE_COLUMNS))
    fresh = signatures(30, "fresh", RowMemo(None, SIGNATURE_COLUMNS))
    assert copied == []
    grown = signatures(30, "grown", RowMemo(first, SIGNATURE_COLUMNS))
    # 22 known rows in groups of 4: the first five groups are copied, the sixth (rows 20-23)
    # holds new rows and is encoded, as are the groups after it
    assert copied == [0, 1, 2, 3, 4]
    assert grown.read_bytes() == fresh.read_bytes()


def test_a_survivor_with_two_text_rows_is_refused(policy: Policy, tmp_path: Path) -> None:
    survivors = pa.table(
        {
            "example_id": ["a", "b"],
            "prompt_hash": ["1" * 64, "2" * 64],
            "curation_score": [1.0, 1.0],
            "lane_priority": [1, 1],
            "generation_timestamp": ["2026-01-01T00:00:00Z"] * 2,
        }
    )
    texts = tmp_path / "texts.parquet"
    messages = [[{"role": "user", "content": "one two three four five six"}]] * 3
    pq.write_table(pa.table({"example_id": ["a", "b", "a"], "messages": messages}), texts)
    with pytest.raises(ValueError, match="more than one text row"):
        near_decisions(
            _ranked(survivors, policy),
            [texts],
            policy,
            2,
            RowMemo(None, SIGNATURE_COLUMNS),
            tmp_path / "s.parquet",
        )


def test_ranked_rows_out_of_id_order_are_refused(policy: Policy, tmp_path: Path) -> None:
    ranked = pa.table({"example_id": ["b", "a"], "survivor_rank": [1, 2]})
    texts = tmp_path / "texts.parquet"
    pq.write_table(pa.table({"example_id": ["a", "b"], "prompt": ["one two", "three four"]}), texts)
    with pytest.raises(ValueError, match="not sorted by a unique example_id"):
        near_decisions(
            ranked, [texts], policy, 2, RowMemo(None, SIGNATURE_COLUMNS), tmp_path / "s.parquet"
        )


def _planted_signatures(rows: int, seed: int) -> tuple[Signatures, list[int | None]]:
    """Random signatures with near copies and empty rows, and a task per row.

    Every third row of the second half copies an earlier row with some values changed: some
    above the threshold, some below, each sharing a few bands.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, 2**32, size=(rows, 112), dtype=np.uint32)
    for row in range(rows // 2, rows, 3):
        matrix[row] = matrix[rng.integers(0, rows // 2)]
        changed = rng.choice(112, size=int(rng.choice([4, 12, 30, 60])), replace=False)
        matrix[row, changed] = rng.integers(0, 2**32, size=len(changed), dtype=np.uint32)
    empty = rng.random(rows) < 0.05
    matrix[empty] = 0
    tasks: list[int | None] = [None if n % 4 == 0 else n % 7 for n in range(rows)]
    return Signatures(matrix, empty), tasks


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deciding_the_rows_that_share_a_band_key_decides_every_row(
    policy: Policy, tmp_path: Path, seed: int
) -> None:
    signatures, tasks = _planted_signatures(600, seed)
    ranks = np.random.default_rng(seed).permutation(600).astype(np.int64)
    expected = find_near_duplicates(signatures, ranks, policy, tasks)
    assert 10 <= int((expected.duplicate_of >= 0).sum()) < 200
    path = tmp_path / "signatures.parquet"
    pq.write_table(
        pa.table(
            {
                "example_id": [f"ex_{n:03d}" for n in range(600)],
                "signature": pa.FixedSizeListArray.from_arrays(
                    pa.array(signatures.matrix.ravel()), 112
                ),
                "empty": signatures.empty,
            }
        ),
        path,
        row_group_size=64,
    )
    keys = band_keys(signatures.matrix, policy.similarity)
    # Keys as computed, and keys that collide everywhere or at random (a 64-bit key can collide):
    # the rows are compared by value again, so the decisions are the same.
    colliding = np.random.default_rng(seed).integers(0, 3, size=keys.shape, dtype=np.uint64)
    for given in (keys, np.zeros_like(keys), colliding):
        found = decide_sharing(path, given, ranks, policy, tasks)
        assert found.duplicate_of.tolist() == expected.duplicate_of.tolist()
        assert found.similarity.tolist() == expected.similarity.tolist()
