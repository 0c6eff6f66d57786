"""A release's similarity index reuses the rows a former index holds, with the same bytes.

Real BigCodeBench prompts from the sample lanes are published as two small releases that share
most rows; the second release's index, built after the first's, must equal one built from
nothing, byte for byte, and sign only the rows the first did not hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import born_assets.release.similarity_index as similarity_index
from born_assets.layout import DataDir
from born_assets.release.similarity_index import build_index
from born_assets.specs.policy import Policy
from born_assets.text.embedding import MODEL_NAME
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import lane_rows

_FILES = ("rows.parquet", "signatures.npy", "index.json", "memo.json")


def _publish(data: DataDir, version: str, first: int, last: int, day: int) -> None:
    """Release `version`: sample rows first..last-1, with ids that name their place."""
    release = data.release(version)
    release.data.mkdir(parents=True)
    source = lane_rows(("bigcodebench-reference",))[first:last]
    count = len(source)
    table = pa.table(
        {
            "example_id": [f"ex_{n:024x}" for n in range(first, last)],
            "origin_kind": ["lane"] * count,
            "origin_id": ["bigcodebench-reference"] * count,
            "teacher_model": ["reference:bigcode-bigcodebench"] * count,
            "source_benchmark": ["bigcodebench"] * count,
            "source_file": ["lanes/bigcodebench-reference/part-000.jsonl"] * count,
            "source_line": pa.array(range(first + 1, last + 1), pa.int64()),
            "prompt": [row.prompt for row in source],
        }
    )
    pq.write_table(table, release.data / "train-00000-of-00001.parquet", row_group_size=8)
    release.release_json.write_text(json.dumps({"built_at": f"2026-01-0{day}T00:00:00Z"}))


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The example ids the builder signs (rather than takes from a former index)."""
    ids: list[str] = []
    real = similarity_index.index_batch

    def counting(*args: object) -> similarity_index.IndexedBatch:
        batch = args[-1]
        assert isinstance(batch, pa.RecordBatch)
        ids.extend(batch.column("example_id").to_pylist())
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(similarity_index, "index_batch", counting)
    return ids


def _bytes(data: DataDir, version: str) -> dict[str, bytes]:
    folder = data.similarity_index(version).path
    return {name: (folder / name).read_bytes() for name in _FILES}


def _two_releases(root: Path) -> DataDir:
    data = DataDir.at(root)
    _publish(data, "v1", 0, 40, 1)
    _publish(data, "v2", 10, 60, 2)
    return data


def test_the_next_index_signs_only_new_rows_and_equals_one_built_from_nothing(
    tmp_path: Path, signed: list[str]
) -> None:
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    alone = _two_releases(tmp_path / "alone")
    build_index(alone, "v2", policy, batch_rows=16)
    assert len(signed) == 50

    data = _two_releases(tmp_path / "reused")
    build_index(data, "v1", policy, batch_rows=16)
    signed.clear()
    build_index(data, "v2", policy, batch_rows=16)
    assert signed == [f"ex_{n:024x}" for n in range(40, 60)]  # v1 held rows 10..39
    assert _bytes(data, "v2") == _bytes(alone, "v2")

    signed.clear()
    build_index(data, "v2", policy, batch_rows=16)  # again: its own index holds every row
    assert signed == []
    assert _bytes(data, "v2") == _bytes(alone, "v2")


def _other_settings(data: DataDir, policy: Policy) -> Policy:
    """The next build signs with more permutations than the former index."""
    other = policy.similarity.model_copy(update={"bands": policy.similarity.bands + 2})
    return policy.model_copy(update={"similarity": other})


def _truncated_matrix(data: DataDir, policy: Policy) -> Policy:
    """The former index's signature matrix lost its last rows (its shape no longer fits)."""
    matrix = data.similarity_index("v1").signatures
    matrix.write_bytes(matrix.read_bytes()[:-4096])
    return policy


@pytest.mark.parametrize("spoil", [_other_settings, _truncated_matrix])
def test_a_former_index_that_does_not_fit_is_not_reused(
    tmp_path: Path, signed: list[str], spoil: Callable[[DataDir, Policy], Policy]
) -> None:
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    data = _two_releases(tmp_path)
    build_index(data, "v1", policy, batch_rows=16)
    now = spoil(data, policy)
    signed.clear()
    build_index(data, "v2", now, batch_rows=16)
    assert len(signed) == 50


def test_embeddings_are_reused_row_for_row_too(tmp_path: Path, signed: list[str]) -> None:
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    settings = policy.similarity.model_copy(update={"embedding_model": MODEL_NAME})
    policy = policy.model_copy(update={"similarity": settings})
    alone = _two_releases(tmp_path / "alone")
    build_index(alone, "v2", policy, batch_rows=16)
    data = _two_releases(tmp_path / "reused")
    build_index(data, "v1", policy, batch_rows=16)
    signed.clear()
    build_index(data, "v2", policy, batch_rows=16)
    assert len(signed) == 20
    assert _bytes(data, "v2") == _bytes(alone, "v2")
    embeddings = [d.similarity_index("v2").embeddings.read_bytes() for d in (data, alone)]
    assert embeddings[0] == embeddings[1]
