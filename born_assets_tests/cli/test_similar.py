"""`born similar` is how a failing task is traced to the training rows that look like it.

A small published release (real BigCodeBench prompts from the sample lanes, written as Parquet
shards with a release.json) gets its similarity index built by the real builder; the real command
line then answers from the stored index: a reworded prompt finds its row first, `--json` carries
every field, `--id` leaves the row itself out, a bad JSONL line is refused naming its line, and a
release without an index says how to build one. An empty `--text` is refused like an empty
prompt in a file, and an unknown `--id` is named with exit 1 (not a KeyError crash).
"""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.cli.main import main
from born_assets.layout import DataDir
from born_assets.release.similarity_index import build_index
from born_assets.specs.policy import Policy
from born_assets.text.embedding import MODEL_NAME
from born_assets.text.minhash import sign
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.planted import lane_rows, reworded

FIELDS = {"score", "release", "example_id", "origin", "teacher_model", "family", "source"}


def _publish(data: DataDir, version: str, rows: int) -> list[str]:
    release = data.release(version)
    release.data.mkdir(parents=True)
    source = lane_rows(("bigcodebench-reference",))[:rows]
    ids = [f"ex_{n:024x}" for n in range(len(source))]
    table = pa.table(
        {
            "example_id": ids,
            "origin_kind": ["lane"] * len(ids),
            "origin_id": ["bigcodebench-reference"] * len(ids),
            "teacher_model": ["reference:bigcode-bigcodebench"] * len(ids),
            "source_benchmark": ["bigcodebench"] * len(ids),
            "source_file": ["lanes/bigcodebench-reference/part-000.jsonl"] * len(ids),
            "source_line": pa.array(range(1, len(ids) + 1), pa.int64()),
            "prompt": [row.prompt for row in source],
        }
    )
    pq.write_table(table, release.data / "train-00000-of-00001.parquet")
    release.release_json.write_text(json.dumps({"built_at": "2026-01-01T00:00:00Z"}))
    return ids


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    data = DataDir.at(tmp_path_factory.mktemp("similar"))
    _publish(data, "v1", 60)
    build_index(data, "v1", Policy.load(SAMPLE_DATA / "policy.yaml"), batch_rows=16)
    return data


def _run(data: DataDir, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data.root), "similar", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_reworded_prompt_finds_its_row_first(data: DataDir, capsys) -> None:
    import random

    row = lane_rows(("bigcodebench-reference",))[7]
    code, out, _ = _run(data, capsys, "--text", reworded(row.prompt, random.Random(1)), "--json")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 5
    assert hits[0]["example_id"] == f"ex_{7:024x}"
    assert hits[0]["source"] == "lanes/bigcodebench-reference/part-000.jsonl:8"
    assert set(hits[0]) >= FIELDS and hits[0]["score"] > hits[1]["score"]


def test_id_leaves_the_row_out_and_k_bounds_the_answer(data: DataDir, capsys) -> None:
    code, out, _ = _run(data, capsys, "--id", f"ex_{3:024x}", "-k", "2", "--json")
    assert code == 0
    hits = json.loads(out)
    assert [h["rank"] for h in hits] == [1, 2]
    assert f"ex_{3:024x}" not in {h["example_id"] for h in hits}


def test_a_file_of_failing_tasks_is_read_line_by_line(data: DataDir, capsys, tmp_path) -> None:
    rows = lane_rows(("bigcodebench-reference",))
    tasks = tmp_path / "failing.jsonl"
    tasks.write_text(json.dumps({"task": rows[0].prompt}) + "\n" + json.dumps({"task": 3}) + "\n")
    code, _, err = _run(data, capsys, "--file", str(tasks), "--field", "task")
    assert code == 2
    assert "failing.jsonl line 2, field 'task'" in err
    tasks.write_text(json.dumps({"task": rows[0].prompt}) + "\n")
    code, out, _ = _run(data, capsys, "--file", str(tasks), "--field", "task", "-k", "1")
    assert code == 0 and f"ex_{0:024x}" in out and "# failing.jsonl:1" in out


def test_a_release_changed_after_its_index_is_named_stale(embedded: DataDir, capsys) -> None:
    release_json = embedded.release("v1").release_json
    original = release_json.read_text()
    code, _, err = _run(embedded, capsys, "--text", "anything")
    assert code == 0 and "warning" not in err
    release_json.write_text(json.dumps({"built_at": "2026-02-02T00:00:00Z"}))
    try:
        code, _, err = _run(embedded, capsys, "--text", "anything")
    finally:
        release_json.write_text(original)
    assert code == 0
    assert "release v1 changed after its similarity index was built" in err


def test_a_release_without_an_index_says_how_to_build_it(data: DataDir, capsys) -> None:
    _publish(data, "v2", 3)
    code, _, err = _run(data, capsys, "--text", "anything")
    assert code == 2
    assert "release v2 has no similarity index" in err


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> DataDir:
    """The same release with the optional sentence embeddings in its index."""
    data = DataDir.at(tmp_path_factory.mktemp("similar-embedding"))
    _publish(data, "v1", 60)
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    settings = policy.similarity.model_copy(update={"embedding_model": MODEL_NAME})
    build_index(data, "v1", policy.model_copy(update={"similarity": settings}), batch_rows=16)
    return data


def test_embeddings_find_a_paraphrase_that_shares_few_words(embedded: DataDir, capsys) -> None:
    """A prompt restated in other words (written by hand, not by a word swap) finds its row."""
    row = lane_rows(("bigcodebench-reference",))[7]
    first_line = next(line for line in row.prompt.splitlines() if line.strip())
    code, out, _ = _run(
        embedded, capsys, "--text", f"{first_line} (in other words)", "--method", "embedding",
        "--json", "-k", "3",
    )  # fmt: skip
    assert code == 0
    hits = json.loads(out)
    assert hits[0]["example_id"] == f"ex_{7:024x}", hits
    assert 0 < hits[0]["score"] <= 1 and hits[0]["score"] > hits[1]["score"]
    info = json.loads((embedded.similarity_index("v1").path / "index.json").read_text())
    assert info["embedding_model"] == MODEL_NAME


def test_an_index_without_embeddings_says_how_to_add_them(data: DataDir, capsys) -> None:
    code, _, err = _run(data, capsys, "--release", "v1", "--text", "x", "--method", "embedding")
    assert code == 2
    assert "holds no embeddings: set similarity.embedding_model" in err


def test_the_index_files_are_the_whole_matrices_saved(
    data: DataDir, embedded: DataDir, tmp_path: Path
) -> None:
    """Written batch by batch, `signatures.npy` and `embeddings.npy` are `np.save` of the whole."""
    policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    prompts = pq.read_table(data.release("v1").shards()[0], columns=["prompt"])
    signatures = sign([[text] for text in prompts.column(0).to_pylist()], policy.similarity.params)
    expected = tmp_path / "signatures.npy"
    np.save(expected, signatures.matrix, allow_pickle=False)
    for folder in (data.similarity_index("v1"), embedded.similarity_index("v1")):
        assert folder.signatures.read_bytes() == expected.read_bytes()
    vectors = np.load(embedded.similarity_index("v1").embeddings)
    assert vectors.shape == (60, 384)
    np.save(expected, vectors, allow_pickle=False)
    assert embedded.similarity_index("v1").embeddings.read_bytes() == expected.read_bytes()


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_an_empty_text_is_refused_like_an_empty_prompt_in_a_file(
    data: DataDir, capsys, text: str
) -> None:
    code, out, err = _run(data, capsys, "--text", text)
    assert (code, out) == (2, "")
    assert err == "born: --text: must be a non-empty string (an empty one resembles nothing)\n"


def test_an_unknown_id_is_named_and_exits_1_like_history(data: DataDir, capsys) -> None:
    code, out, err = _run(data, capsys, "--release", "v1", "--id", "ex_nope")
    assert (code, out) == (1, "")
    assert err == "born: no released row with id 'ex_nope' (searched v1), nor in the warehouse\n"
