"""A release must be reproducible, immutable, atomic and verifiable, and say where every row went.

These tests cut real releases from the sample data through Dagster (the `release` partition),
then exercise what an auditor does with them: verify, trace, diff, load, validate metadata.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from born_assets.cli.main import main
from born_assets.defs.checks import RESULT_REMEMBERED
from born_assets.defs.runner import JobRuns, failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets.release.publish import read_release_json, verify_release
from born_assets_tests.conftest import copy_sample_data, input_lines
from born_assets_tests.graph import materialization_metadata

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the whole graph built and release v1 cut."""
    data_dir = copy_sample_data(tmp_path_factory.mktemp("release") / "data")
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    return data_dir


def release(data_dir: Path, version: str) -> Path:
    return data_dir / "releases" / version


def test_the_release_folder_holds_every_promised_file_and_checks_passed(built: Path) -> None:
    folder = release(built, "v1")
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    shards = {n for n in names if n.startswith("data/")}
    default = (folder / "data").glob("train-*.parquet")
    origins = pd.concat(pd.read_parquet(s, columns=["origin_id"]) for s in default)["origin_id"]
    count = origins.nunique()  # one shard per source: no source of the sample fills 100,000 rows
    assert shards == {
        *(f"data/train-{i:05d}-of-{count:05d}.parquet" for i in range(count)),
        "data/cc-by-sa-4.0.train-00000-of-00001.parquet",
    }
    assert names - shards == {
        "README.md",
        "croissant.json",
        "fates.parquet",
        "pii_report.parquet",
        "contamination_report.parquet",
        "plots/rows_by_family.png",
        "plots/rows_by_lane.png",
        "plots/length_chars.png",
        "plots/curation_score.png",
        "release.json",
        "transparency.csv",
        "transparency.md",
    }
    document = read_release_json(folder)
    assert set(document["files"]) == names - {"release.json"}
    assert document["use"] == "train"
    assert document["dataset_id"] == "born-assets-sample"
    assert sum(document["counts_by_fate"].values()) == input_lines(built)
    assert document["counts_by_fate"]["released"] == document["rows"] > 0
    assert len(document["inputs"]["policy_sha256"]) == 64
    assert "lanes/mbpp-plus-reference/part-000.jsonl" in document["inputs"]["source_files"]


def test_the_release_loads_with_pandas_duckdb_and_datasets(built: Path, tmp_path: Path) -> None:
    folder = release(built, "v1")
    rows = read_release_json(folder)["rows"]
    frame = pd.read_parquet(folder / "data")
    assert len(frame) == rows and frame["example_id"].is_unique
    with duckdb.connect() as con:
        ((count,),) = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(folder / "data" / "*.parquet")]
        ).fetchall()
    assert count == rows
    import datasets

    loaded = datasets.load_dataset(
        "parquet", data_dir=str(folder / "data"), split="train", cache_dir=str(tmp_path)
    )
    assert loaded.num_rows == rows
    assert "generator_model" in loaded.column_names
    # The conversation is nested features, not one JSON string: a trainer reads it as it is.
    messages = loaded.features["messages"]
    assert isinstance(messages, datasets.List)
    assert set(messages.feature) == {"role", "content", "tool_calls", "tool_call_id", "name"}
    assert isinstance(messages.feature["tool_calls"], datasets.List)
    assert set(messages.feature["tool_calls"].feature["function"]) == {"name", "arguments"}
    assert set(loaded.features["tools"].feature["function"]) == {
        "name",
        "description",
        "parameters",
    }
    with_calls = loaded.filter(lambda row: any(m["tool_calls"] for m in row["messages"]))
    assert with_calls.num_rows > 0


def test_every_released_row_has_its_time_and_a_conversation(built: Path) -> None:
    folder = release(built, "v1")
    with duckdb.connect() as con:
        ((missing_time, no_messages, bad_source, sources),) = con.execute(
            "SELECT count(*) FILTER (WHERE generation_timestamp IS NULL),"
            " count(*) FILTER (WHERE len(messages) < 2),"
            " count(*) FILTER (WHERE timestamp_source NOT IN ('record', 'declared')),"
            " count(DISTINCT timestamp_source)"
            " FROM read_parquet(?)",
            [str(folder / "data" / "*.parquet")],
        ).fetchall()
    assert (missing_time, no_messages, bad_source, sources) == (0, 0, 0, 2)


@pytest.mark.parametrize("fmt", ["trl", "openai"])
def test_export_writes_what_each_trainer_takes(built: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"v1-{fmt}.jsonl"
    assert main(["--data-dir", str(built), "export", "--format", fmt, "v1", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == read_release_json(release(built, "v1"))["rows"]
    messages = [m for row in rows for m in row["messages"]]
    calls = [c for m in messages for c in m.get("tool_calls", [])]
    results = [m for m in messages if m["role"] == "tool"]
    assert calls and results
    assert all(c["id"] and c["type"] == "function" for c in calls)
    assert all(m["tool_call_id"] for m in results)
    if fmt == "openai":
        assert all(isinstance(c["function"]["arguments"], str) for c in calls)
        assert all("name" not in m for m in results)
    else:
        assert any(isinstance(c["function"]["arguments"], dict) for c in calls)
        assert all(m["name"] for m in results)
    tools = [t for row in rows for t in row.get("tools", [])]
    assert tools and all(isinstance(t["function"].get("parameters", {}), dict) for t in tools)


def test_columns_carry_descriptions_and_rows_are_use_compatible(built: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    shards = sorted((release(built, "v1") / "data").glob("train-*.parquet"))
    schema = pq.read_schema(shards[0])
    assert schema.field("prompt_hash").metadata[b"description"].startswith(b"SHA-256")
    columns = ["intended_use", "response_format", "origin_id"]
    table = pa.concat_tables(pq.read_table(s, columns=columns) for s in shards)
    assert set(table.column("intended_use").to_pylist()) == {"train"}
    assert set(table.column("response_format").to_pylist()) == {"closure"}
    assert "humaneval-reference" not in set(table.column("origin_id").to_pylist())  # eval only


def test_the_same_inputs_build_byte_identical_files(built: Path, tmp_path: Path) -> None:
    other = copy_sample_data(tmp_path / "data")
    result = materialize_release(DataDir.at(other), "v1")
    assert result.success, failure_messages(result)
    first, second = read_release_json(release(built, "v1")), read_release_json(release(other, "v1"))
    assert first["files"] == second["files"]
    assert first["input_fingerprint"] == second["input_fingerprint"]


def test_rebuilding_a_version_with_the_same_inputs_changes_nothing(built: Path) -> None:
    before = (release(built, "v1") / "release.json").read_bytes()
    result = materialize_release(DataDir.at(built), "v1")
    assert result.success, failure_messages(result)
    assert (release(built, "v1") / "release.json").read_bytes() == before
    assert verify_release(release(built, "v1")) == []
    assert materialization_metadata(result, "release")["status"] == "unchanged"
    remembered = _release_checks_remembered(result)
    assert remembered and all(remembered.values()), remembered


def _release_checks_remembered(result: JobRuns) -> dict[str, object]:
    return {
        e.check_name: e.metadata[RESULT_REMEMBERED].value
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "release" and e.passed
    }


def _release_check_descriptions(result: JobRuns) -> dict[str, str]:
    return {
        e.check_name: str(e.description)
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == "release"
    }


def test_a_damaged_remembered_release_check_runs_the_checks_again(
    built: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    entries = list(DataDir.at(data_dir).check_cache.rglob("*.json"))
    assert entries
    for entry in entries:
        entry.write_text('{"checks": [{"name": "schema"}]}')
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    assert materialization_metadata(result, "release")["status"] == "unchanged"
    remembered = _release_checks_remembered(result)
    assert len(remembered) == 5 and not any(remembered.values()), remembered


def test_recutting_a_version_whose_published_file_changed_is_refused(
    built: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    plot = next((release(data_dir, "v1") / "plots").glob("*.png"))
    plot.write_bytes(plot.read_bytes() + b"x")
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert not result.success
    message = " ".join(failure_messages(result))
    assert f"plots/{plot.name}" in message and "no longer have the SHA-256" in message


def test_a_changed_policy_under_an_existing_version_is_refused(built: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    policy = data_dir / "policy.yaml"
    policy.write_text(
        policy.read_text().replace("soft_failure_factor: 0.5", "soft_failure_factor: 0.4")
    )
    before = (release(data_dir, "v1") / "release.json").read_bytes()
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert not result.success
    message = " ".join(failure_messages(result))
    assert "release v1 already exists and is immutable" in message
    assert "policy_sha256" in message
    assert (release(data_dir, "v1") / "release.json").read_bytes() == before


def test_born_release_refuses_a_published_version_whose_inputs_changed_before_building(
    built: Path, tmp_path: Path, capsys
) -> None:
    """Usage error (2) and one line naming what changed: no build ran, so no log either."""
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    policy = data_dir / "policy.yaml"
    policy.write_text(policy.read_text() + "# a comment\n")
    before = (release(data_dir, "v1") / "release.json").read_bytes()
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "release", "--version", "v1", "--use", "eval"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "born: release v1 already exists and is immutable; its inputs changed since it was cut "
        "(policy.yaml, use). Cut a new version instead: born release (next v2)\n"
    )
    assert (release(data_dir, "v1") / "release.json").read_bytes() == before


def test_verify_catches_a_flipped_byte(built: Path, tmp_path: Path, capsys) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    assert main(["--data-dir", str(data_dir), "verify", "v1"]) == 0
    shard = sorted((release(data_dir, "v1") / "data").glob("train-*.parquet"))[0]
    name = f"data/{shard.name}"
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    shard.write_bytes(bytes(raw))
    assert main(["--data-dir", str(data_dir), "verify", "v1"]) == 1
    assert f"MISMATCH {name}" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "verify", "v1", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["intact"] is False and report["changed_inputs"] == []
    assert [m["path"] for m in report["mismatches"]] == [name]


def test_verify_names_a_changed_tests_file_and_a_file_added_to_a_lane(
    built: Path, tmp_path: Path, capsys
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    tests = data_dir / "tasks" / "mbpp_plus.tests.jsonl"
    tests.write_bytes(tests.read_bytes() + b"\n")
    added = data_dir / "lanes" / "mbpp-plus-reference" / "part-009-added.jsonl"
    added.write_bytes(b"")
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "verify", "v1"]) == 1
    out = capsys.readouterr().out
    assert "INPUT CHANGED tasks/mbpp_plus.tests.jsonl: pinned " in out
    assert (
        "INPUT CHANGED lanes/mbpp-plus-reference/part-009-added.jsonl: not read by the release "
        "(added since), now e3b0c442"
    ) in out
    assert "0 mismatches" in out and ", 2 changed" in out


@pytest.mark.parametrize(
    ("key", "forged"),
    [
        ("rows", 1),
        ("counts_by_fate", {"released": 1}),
        ("use", "eval"),
        ("license", "MIT"),
        ("input_fingerprint", "0" * 64),
    ],
)
def test_verify_catches_a_fact_of_release_json_its_files_contradict(
    built: Path, tmp_path: Path, capsys, key: str, forged: object
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    path = release(data_dir, "v1") / "release.json"
    document = json.loads(path.read_text())
    stated = document[key]
    path.write_text(json.dumps({**document, key: forged}, indent=2, sort_keys=True) + "\n")
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "verify", "v1", "--json"]) == 1
    (mismatch,) = json.loads(capsys.readouterr().out)["mismatches"]
    assert mismatch == {
        "path": f"release.json {key}",
        "expected": str(stated),
        "actual": str(forged),
    }


def _example(data_dir: Path, origin_kind: str) -> str:
    with duckdb.connect() as con:
        ((example_id,),) = con.execute(
            "SELECT min(example_id) FROM read_parquet(?) WHERE origin_kind = ?",
            [str(release(data_dir, "v1") / "data" / "*.parquet"), origin_kind],
        ).fetchall()
    return str(example_id)


@pytest.mark.parametrize("origin_kind", ["lane", "import"])
def test_trace_prints_the_whole_chain(built: Path, capsys, origin_kind: str) -> None:
    example_id = _example(built, origin_kind)
    assert main(["--data-dir", str(built), "trace", example_id]) == 0
    out = capsys.readouterr().out
    for heading in ("source:", "spec:", "sanitization:", "gates:", "dedup:", "releases:"):
        assert f"\n{heading}" in out, heading
    assert "source_line:" in out and "teacher_model:" in out and "sampling_params:" in out
    assert "release: v1" in out and "shard: data/" in out
    assert "fate: released" in out and "decision: survivor" in out
    assert "sha256: " in out and (".yaml" in out)
    assert main(["--data-dir", str(built), "trace", example_id, "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    sections = {s["section"]: s["content"] for s in chain["sections"]}
    assert sections["source"]["source_line"] >= 1 and "gates" in sections
    assert sections["releases"][0]["release"] == "v1"


def test_trace_of_a_duplicate_names_its_survivor(built: Path, capsys) -> None:
    with duckdb.connect() as con:
        ((example_id, survivor),) = con.execute(
            "SELECT example_id, detail FROM read_parquet(?) LIMIT 1",
            [str(built / "warehouse" / "deduplicated" / "exits.parquet")],
        ).fetchall()
    assert main(["--data-dir", str(built), "trace", example_id]) == 0
    out = capsys.readouterr().out
    assert "decision: duplicate" in out and f"duplicate_of: {survivor}" in out
    assert "fate: duplicate" in out


def test_diff_reports_rows_added_removed_and_fates_changed(
    built: Path, tmp_path: Path, capsys
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    (data_dir / "lanes" / "swebench-lite-gold" / "part-000.jsonl").unlink()
    result = materialize_release(DataDir.at(data_dir), "v2")
    assert result.success, failure_messages(result)
    out_file = tmp_path / "diff.parquet"
    assert main(["--data-dir", str(data_dir), "diff", "v1", "v2", "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "rows removed: 60" in out and "rows added: 0" in out
    assert "swebench-lite-gold" in out and "removed  60" in out
    assert "released -> -: 60" in out
    diff = pd.read_parquet(out_file)
    assert set(diff["change"]) == {"removed"} and len(diff) == 60
    assert main(["--data-dir", str(data_dir), "diff", "v1", "v2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["removed"] == 60 and report["totals"].get("added", 0) == 0


def test_releases_lists_versions_with_counts(built: Path, capsys) -> None:
    assert main(["--data-dir", str(built), "releases"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("v1") and "rows" in out and "released" in out
    assert main(["--data-dir", str(built), "releases", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["version"] == "v1" and listed["rows"] == listed["counts_by_fate"]["released"]


def test_croissant_metadata_validates_with_mlcroissant(built: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CROISSANT_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [
            str(BIN / "mlcroissant"),
            "validate",
            f"--jsonld={release(built, 'v1') / 'croissant.json'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "warning" not in (done.stdout + done.stderr).lower(), done.stderr[-2000:]


def test_the_dataset_card_has_a_yaml_header_and_the_transparency_table(built: Path) -> None:
    import yaml

    card = (release(built, "v1") / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["configs"][0]["data_files"][0]["path"] == "data/train-*.parquet"
    assert header["configs"][1]["data_files"][0]["path"] == "data/cc-by-sa-4.0.train-*.parquet"
    assert (release(built, "v1") / "transparency.md").read_text().strip() in card
    croissant = json.loads((release(built, "v1") / "croissant.json").read_text())
    assert croissant["version"] == "1.0.0" and croissant["datePublished"] in card


def test_a_build_killed_mid_write_leaves_no_release_and_the_next_run_succeeds(
    built: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import born_assets.release.documents as documents\n"
        "def killed(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "documents.write_card = killed\n"
        "from born_assets.cli.main import main\n"
        f"sys.exit(main(['--data-dir', {str(data_dir)!r}, 'release', '--version', 'v9']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=600, check=False
    )
    assert done.returncode == -9
    releases = data_dir / "releases"
    assert not (releases / "v9").exists()
    assert [p.name for p in releases.iterdir() if p.name.startswith(".tmp-v9")]
    assert main(["--data-dir", str(data_dir), "release", "--version", "v9"]) == 0
    assert verify_release(releases / "v9") == []
    assert not [p for p in releases.iterdir() if p.name.startswith(".tmp-")]


def _shards_by_source(folder: Path) -> dict[str, bytes]:
    """The default config's shards of a release, by the one source each holds."""
    found = {}
    for shard in sorted((folder / "data").glob("train-*.parquet")):
        (origin,) = set(pd.read_parquet(shard, columns=["origin_id"])["origin_id"])
        found[origin] = shard.read_bytes()
    return found


def test_a_cut_copies_the_shards_of_each_source_whose_rows_did_not_change(
    built: Path, tmp_path: Path
) -> None:
    """Shards are per source; an unchanged source's are the files of the release before.

    Copied or built, a shard has the same bytes: a cut with nothing to copy gives the same files.
    A shard whose file no longer has the hash it was written with is built again.
    """
    import pyarrow.parquet as pq

    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    lane = data_dir / "lanes" / "mbpp-plus-reference" / "part-000.jsonl"
    lines = lane.read_bytes().splitlines(keepends=True)
    lane.write_bytes(b"".join(lines[:-5]))  # five rows fewer in one lane
    v1 = _shards_by_source(release(data_dir, "v1"))
    # One source's v1 shard rewritten (as an erasure would): still Parquet, other bytes.
    rewritten = next(
        s for s in sorted((release(data_dir, "v1") / "data").glob("train-*.parquet"))
        if s.read_bytes() == v1["bigcodebench-reference"]
    )  # fmt: skip
    table = pq.read_table(rewritten)
    rewritten.unlink()  # a published file may be a hard link: replace it, as a rewrite does
    pq.write_table(table.slice(1), rewritten)

    result = materialize_release(DataDir.at(data_dir), "v2")
    assert result.success, failure_messages(result)
    v2 = _shards_by_source(release(data_dir, "v2"))
    assert v2["mbpp-plus-reference"] != v1["mbpp-plus-reference"]
    kept = {o for o in v2 if v2[o] == v1.get(o)}
    assert kept == set(v1) - {"mbpp-plus-reference"}  # bigcodebench's shard is v1's as written
    metadata = materialization_metadata(result, "release")
    copied = pd.concat(
        pd.read_parquet(s, columns=["origin_id"])
        for s in (release(data_dir, "v2") / "data").glob("*.parquet")
    )
    built_again = copied["origin_id"].isin({"mbpp-plus-reference", "bigcodebench-reference"})
    assert metadata["rows_in_reused_shards"] == int((~built_again).sum()) > 0  # both configs
    # The schema check reads only the changed lane's shard: bigcodebench's, built again, has
    # the bytes that passed it in v1.
    shards = len(list((release(data_dir, "v2") / "data").glob("*.parquet")))
    assert f"1 of {shards} shards read" in _release_check_descriptions(result)["release_schema"]

    shutil.rmtree(DataDir.at(data_dir).shard_cache)  # nothing to copy: every shard is built
    result = materialize_release(DataDir.at(data_dir), "v3")
    assert result.success, failure_messages(result)
    assert materialization_metadata(result, "release")["rows_in_reused_shards"] == 0
    assert _shards_by_source(release(data_dir, "v3")) == v2
    assert f"0 of {shards} shards read" in _release_check_descriptions(result)["release_schema"]
    assert main(["--data-dir", str(data_dir), "verify", "v2"]) == 0


def _shards_by_files(folder: Path) -> dict[tuple[str, ...], bytes]:
    """The default config's shards of a release, by the input files their rows come from."""
    found = {}
    for shard in sorted((folder / "data").glob("train-*.parquet")):
        files = pd.read_parquet(shard, columns=["source_file"])["source_file"]
        found[tuple(sorted(set(files)))] = shard.read_bytes()
    return found


def test_a_file_added_to_a_lane_leaves_the_shards_of_the_lane_s_closed_sets_as_they_were(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lane's files fill shard sets in path order; a file added last rebuilds only its set.

    At the sample's size, with sets closing at one row and every file's rows ending their row
    group, each file's released rows fill a set of their own: the file added to a lane comes out
    as a set of its own, and every other shard is the one of the release before.
    """
    from born_assets.ingest import files
    from born_assets.release import source_shards

    monkeypatch.setattr(source_shards, "SET_ROWS", 1)
    monkeypatch.setattr(files, "file_end_rows", lambda batch_rows: 1)
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    lane = data_dir / "lanes" / "bigcodebench-reference"
    first = lane / "part-000.jsonl"
    lines = first.read_bytes().splitlines(keepends=True)
    first.write_bytes(b"".join(lines[:-10]))
    before = materialize_release(DataDir.at(data_dir), "v2")
    assert before.success, failure_messages(before)
    added = lane / "part-001-added.jsonl"
    added.write_bytes(b"".join(lines[-10:]))
    after = materialize_release(DataDir.at(data_dir), "v3")
    assert after.success, failure_messages(after)

    v2, v3 = (_shards_by_files(release(data_dir, v)) for v in ("v2", "v3"))
    new = ("lanes/bigcodebench-reference/part-001-added.jsonl",)
    assert set(v3) == {*v2, new}
    assert all(v3[files] == v2[files] for files in v2)  # the lane's first file's set too
    reused = materialization_metadata(after, "release")["rows_in_reused_shards"]
    copied = pd.read_parquet(release(data_dir, "v3") / "data", columns=["source_file"])
    assert reused == int((copied["source_file"] != new[0]).sum())  # the other config's too

    shutil.rmtree(DataDir.at(data_dir).shard_cache)  # nothing to copy: the same files
    again = materialize_release(DataDir.at(data_dir), "v4")
    assert again.success, failure_messages(again)
    assert _shards_by_files(release(data_dir, "v4")) == v3
