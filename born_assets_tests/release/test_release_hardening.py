"""A release survives crashes, full disks and broken specs, and its version name is never reused.

An erasure rewrite used to swap a release with two renames; a crash between them lost the
release and the next `born release` issued its version again. A broken import spec made
`born release` exit 1 yet publish. These tests drive the real commands on a built sample release:
kill and fail the rewrite at its steps, forge the version ledger, break a spec.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from born_assets.cli.main import main
from born_assets.defs.runner import failure_messages, materialize_graph, materialize_release
from born_assets.layout import DataDir
from born_assets.release import checks
from born_assets.release.ledger import issued_versions
from born_assets.release.publish import verify_release
from born_assets.store.atomic import FAULT_ENV
from born_assets_tests.graph import built_release

WHO = ["--reason", "data subject request", "--requester", "dpo@born.example"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_release(tmp_path_factory.mktemp("hardening") / "data")


@pytest.fixture
def data_dir(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def released_ids(release: Path) -> set[str]:
    return {
        example_id
        for shard in sorted((release / "data").glob("*.parquet"))
        for example_id in pq.read_table(shard, columns=["example_id"]).column(0).to_pylist()
    }


def test_a_rewrite_killed_or_out_of_disk_leaves_the_old_release_and_reruns_clean(
    data_dir: Path, capsys
) -> None:
    release = data_dir / "releases" / "v1"
    example_id = sorted(released_ids(release))[0]
    erase = ["--data-dir", str(data_dir), "erase", "--example-id", example_id, *WHO]
    script = (
        "import sys\nfrom born_assets.cli.main import main\n"
        f"sys.exit(main({erase!r} + sys.argv[1:]))\n"
    )
    for point in ("publish.linked", "publish.swapped"):
        env = {**os.environ, FAULT_ENV: f"{point}:kill"}
        request = ["--id", f"ER-{point}"]
        done = subprocess.run(
            [sys.executable, "-c", script, *request],
            env=env,
            capture_output=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 137, done.stderr[-2000:]
        assert verify_release(release) == []  # whole: the old bytes or the new
    os.environ[FAULT_ENV] = "rewrite.shard:enospc"
    try:
        assert main([*erase, "--id", "ER-full"]) == 1
    finally:
        del os.environ[FAULT_ENV]
    assert "No space left on device (injected at rewrite.shard)" in capsys.readouterr().err
    assert verify_release(release) == []
    result = materialize_graph(DataDir.at(data_dir))
    assert result.success, failure_messages(result)
    assert verify_release(release) == [] and example_id not in released_ids(release)
    assert sorted(p.name for p in release.parent.iterdir() if p.name.startswith(".tmp")) == []


def test_a_version_is_never_issued_twice(data_dir: Path, capsys) -> None:
    data = DataDir.at(data_dir)
    assert set(issued_versions(data)) == {"v1"}
    shutil.rmtree(data.release("v1").path.resolve())
    data.release("v1").path.unlink()  # the release is lost; its name stays issued
    with data.version_ledger.open("a") as ledger:
        ledger.write('{"version": "v2", "input_fingerprint": "' + "0" * 64 + '"}\n')
    assert main(["--data-dir", str(data_dir), "release", "--version", "v2"]) == 1
    assert "release version v2 was issued before for other inputs" in capsys.readouterr().err
    assert not data.release("v2").path.exists()
    assert main(["--data-dir", str(data_dir), "release"]) == 0
    assert [r.version for r in data.published_releases()] == ["v3"]


def test_a_broken_import_spec_stops_the_release_before_anything_is_published(
    data_dir: Path, capsys
) -> None:
    """Chosen: no partial build; exit 2 (CLI) or a failed run (Dagster), naming file and field."""
    spec = data_dir / "imports" / "fastchat-identity.yaml"
    spec.write_text(spec.read_text().replace("format: sharegpt", "format: no_such_format"))
    before = sorted(p.name for p in (data_dir / "releases").iterdir())
    assert main(["--data-dir", str(data_dir), "release", "--version", "v2"]) == 2
    err = capsys.readouterr().err
    assert "imports/fastchat-identity.yaml: format: unknown format 'no_such_format'" in err
    result = materialize_release(DataDir.at(data_dir), "v2")  # what the UI's launch runs
    assert not result.success
    messages = "\n".join(failure_messages(result))
    assert "imports/fastchat-identity.yaml: format: unknown format 'no_such_format'" in messages
    assert sorted(p.name for p in (data_dir / "releases").iterdir()) == before


def test_the_schema_check_finds_every_bad_row_across_batches_and_shards(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = DataDir.at(built).release("v1")
    table = pa.concat_tables(pq.read_table(shard) for shard in release.shards())
    assert checks.schema(release.shards(), set()).passed
    scores = table.column("curation_score").to_pylist()
    bad = [3, table.num_rows - 2]  # one in each shard
    for row in bad:
        scores[row] = 1.5
    index = table.schema.get_field_index("curation_score")
    broken = table.set_column(index, "curation_score", pa.array(scores, pa.float64()))
    half = table.num_rows // 2
    shards = [tmp_path / "train-00000-of-00002.parquet", tmp_path / "train-00001-of-00002.parquet"]
    pq.write_table(broken.slice(0, half), shards[0], row_group_size=7)
    pq.write_table(broken.slice(half), shards[1], row_group_size=7)
    monkeypatch.setattr(checks, "SCHEMA_BATCH_TEXT_BYTES", 1)  # one row a batch

    outcome = checks.schema(shards, set())

    assert not outcome.passed
    assert outcome.failures == 2
    named = {example["example_id"] for example in outcome.examples}  # type: ignore[index]
    assert named == {table.column("example_id")[row].as_py() for row in bad}
    # A shard the caller knows passed before (by its bytes) is not read: its bad row goes unseen.
    outcome = checks.schema(shards, {shards[1]})
    assert outcome.failures == 1 and "1 of 2 shards read" in outcome.description
