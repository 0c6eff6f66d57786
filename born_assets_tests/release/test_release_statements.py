"""Every statement a release makes must be true and pinned: its use, licences, PII, evidence.

A release is an audit document: an eval release and a train release cut from the same data must
each refuse what their use rules refuse, with a fate and a reason per line; `release.json` must
pin every input so that `born verify` can say which one changed; the licence must be an SPDX
expression the policy accepts, never a silent mix; and a row must be traceable across releases.
These tests cut real releases from the sample data through Dagster and read them as an auditor.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from born_assets.cli.main import main
from born_assets.defs.assets.release import ReleaseConfig
from born_assets.defs.runner import failure_messages, materialize_release
from born_assets.layout import DataDir
from born_assets.release.publish import read_release_json
from born_assets.schemas.vocabulary import IntendedUse
from born_assets_tests.conftest import copy_sample_data, input_lines

APPROVED = 5


def _fates(folder: Path) -> dict[tuple[str, str | None], int]:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT fate, reason, count(*) FROM read_parquet(?) GROUP BY ALL",
            [str(folder / "fates.parquet")],
        ).fetchall()
    return {(f, r): int(n) for f, r, n in rows}


def _approve(data_dir: Path, lane: str, n: int) -> None:
    assert main(["--data-dir", str(data_dir), "review", "export", "--lane", lane, "--use", "eval",
                 "--sample-n", str(n), "--seed", "1", "--name", "approve"]) == 0  # fmt: skip
    sheet = data_dir / "reviews" / "sheets" / "approve.csv"
    with sheet.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["verdict"] = "approved"
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["--data-dir", str(data_dir), "review", "import", "approve.csv",
                 "--reviewer", "auditor@born.example"]) == 0  # fmt: skip


@pytest.fixture(scope="module")
def two_uses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 cut for train; then five HumanEval rows approved and v2 cut for eval, same data."""
    data_dir = copy_sample_data(tmp_path_factory.mktemp("uses") / "data")
    result = materialize_release(DataDir.at(data_dir), "v1")
    assert result.success, failure_messages(result)
    _approve(data_dir, "humaneval-reference", APPROVED)
    result = materialize_release(DataDir.at(data_dir), "v2", IntendedUse.EVAL)
    assert result.success, failure_messages(result)
    return data_dir


def test_a_train_and_an_eval_release_refuse_what_their_use_rules_refuse(two_uses: Path) -> None:
    train, evaluation = _fates(two_uses / "releases" / "v1"), _fates(two_uses / "releases" / "v2")
    assert sum(train.values()) == sum(evaluation.values()) == input_lines(two_uses)
    assert train[("contaminated", "exact_prompt")] == 109  # HumanEval never trains a model
    assert not [key for key in train if key[0] == "withheld"]
    assert evaluation[("released", None)] == APPROVED  # eval takes approved rows only
    assert evaluation[("withheld", "review_required")] == 109 - APPROVED
    contaminated = sum(n for (fate, _), n in train.items() if fate == "contaminated")
    # every train row the train release took or excluded as contaminated, HumanEval aside
    assert evaluation[("withheld", "intended_use_train")] == (
        train[("released", None)] + contaminated - 109
    )
    assert not [key for key in evaluation if key[0] == "contaminated"]  # eval may hold eval items
    document = read_release_json(two_uses / "releases" / "v2")
    assert (document["use"], document["license"], document["rows"]) == ("eval", "MIT", APPROVED)
    assert document["contamination_applies"] is False


def test_the_eval_card_states_what_was_measured_not_a_fixed_sentence(two_uses: Path) -> None:
    card = (two_uses / "releases" / "v2" / "README.md").read_text()
    assert "No PII scan" not in card
    assert f"Of {APPROVED} released rows, by pii_scan_status: clean {APPROVED}." in card
    assert "Policy contamination.applies_to does not list eval" in card
    assert "| humaneval | 109 | 0 | exact_prompt 109, ngram 109, similar 109, task_id 109 |" in card
    assert "| humaneval-reference | `MIT` | 5 |" in card
    train_card = (two_uses / "releases" / "v1" / "README.md").read_text()
    assert "| humaneval | 109 | 109 |" in train_card
    assert "| cc-by-sa-4.0 | `CC-BY-SA-4.0` | 150 | `data/cc-by-sa-4.0.train-*.parquet` |" in (
        train_card
    )
    assert "| username | no | 7 | 54 | 0 | 0 | 8 |" in train_card
    assert "before any redaction" in train_card


def test_release_json_pins_every_input_and_one_dataset_id(two_uses: Path) -> None:
    v1 = read_release_json(two_uses / "releases" / "v1")
    v2 = read_release_json(two_uses / "releases" / "v2")
    assert v1["dataset_id"] == v2["dataset_id"] == "born-assets-sample"
    pins = v2["inputs"]["pins"]
    for path in (
        "policy.yaml",
        "manifests/humaneval-reference.yaml",
        "imports/tau-bench-gpt-4o-airline.yaml",
        "prompt_templates/benchmark-prompt-verbatim.txt",
        "tasks/humaneval.txt",
        "evals/humaneval.yaml",
        "evals/humaneval.rows0-108.jsonl",
        "reviews/sheets/approve.csv",
    ):
        assert len(pins["files"][path]) == 64, path
    assert [p for p in pins["files"] if p.startswith("reviews/records/")]
    assert pins["eval_sets"]["mbpp"]["file"] == "evals/mbpp-test.tasks11-510.jsonl"
    assert pins["prompt_templates"]["cassettes-gpt-5-mini"]["id"] == "pydantic-ai-test-messages"
    assert list(pins["review_sheets"]) == ["approve.csv"]
    assert "reviews/sheets/approve.csv" not in v1["inputs"]["pins"]["files"]
    for name in ("pii_report.parquet", "contamination_report.parquet", "plots/rows_by_lane.png"):
        assert name in v2["files"]


def test_verify_names_a_changed_eval_file(two_uses: Path, tmp_path: Path, capsys) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(two_uses, data_dir, symlinks=True)
    assert main(["--data-dir", str(data_dir), "verify", "v2"]) == 0
    eval_file = data_dir / "evals" / "humaneval.rows0-108.jsonl"
    eval_file.write_bytes(eval_file.read_bytes().replace(b"def ", b"def  ", 1))
    capsys.readouterr()
    assert main(["--data-dir", str(data_dir), "verify", "v2"]) == 1
    out = capsys.readouterr().out
    assert "INPUT CHANGED evals/humaneval.rows0-108.jsonl: pinned " in out
    assert "0 mismatches" in out and "1 changed" in out


def test_history_lists_every_release_a_row_was_in_with_its_fate(two_uses: Path, capsys) -> None:
    with duckdb.connect() as con:
        ((example_id,),) = con.execute(
            "SELECT min(example_id) FROM read_parquet(?)",
            [str(two_uses / "releases" / "v2" / "data" / "*.parquet")],
        ).fetchall()
    assert main(["--data-dir", str(two_uses), "history", example_id]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{example_id}: in 2 release(s)"
    assert lines[2].split()[:4] == ["v1", "train", lines[2].split()[2], "contaminated"]
    assert "exact_prompt" in lines[2] and "humaneval/HumanEval/" in lines[2]
    assert lines[3].split()[:2] == ["v2", "eval"] and "released" in lines[3]
    assert main(["--data-dir", str(two_uses), "history", example_id, "--json"]) == 0
    found = json.loads(capsys.readouterr().out)["releases"]
    fates = [(a["version"], a["fate"]) for a in found]
    assert fates == [("v1", "contaminated"), ("v2", "released")]
    assert main(["--data-dir", str(two_uses), "history", "ex_" + "0" * 24]) == 1


def test_one_query_finds_every_row_of_a_teacher_between_two_dates_in_any_release(
    two_uses: Path,
) -> None:
    assert main(["--data-dir", str(two_uses), "views"]) == 0
    with duckdb.connect(str(two_uses / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT release_version, release_use, count(*) FROM release_rows "
            "WHERE teacher_model = 'reference:openai-human-eval' "
            "AND created_at IS NULL OR generation_timestamp BETWEEN "
            "TIMESTAMPTZ '2000-01-01' AND TIMESTAMPTZ '2100-01-01' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        fates = con.execute(
            "SELECT release_version, count(*) FROM release_fates GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert ("v2", "eval", APPROVED) in rows
    assert fates == [("v1", input_lines(two_uses)), ("v2", input_lines(two_uses))]


def test_a_row_carries_its_prompt_template_and_version(two_uses: Path) -> None:
    pins = read_release_json(two_uses / "releases" / "v1")["inputs"]["pins"]
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT origin_id, prompt_template_id, prompt_template_sha256 "
            "FROM read_parquet(?) WHERE origin_kind = 'lane' ORDER BY 1",
            [str(two_uses / "releases" / "v1" / "data" / "*.parquet")],
        ).fetchall()
    assert rows
    for origin_id, template_id, sha256 in rows:
        assert (template_id, sha256) == (
            pins["prompt_templates"][origin_id]["id"],
            pins["prompt_templates"][origin_id]["sha256"],
        )


def test_the_use_is_a_launch_config_choice_in_the_ui() -> None:
    field = ReleaseConfig.to_fields_dict()["use"]
    enum = field.config_type.inner_type  # type: ignore[attr-defined]
    assert [value.config_value for value in enum.enum_values] == [
        "TRAIN", "EVAL", "RED_TEAM", "DEMO"
    ]  # fmt: skip
    assert field.default_value == "TRAIN"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _copy(built: Path, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    shutil.copytree(built, data_dir, symlinks=True)
    return data_dir


def test_a_mix_of_share_alike_and_other_terms_is_refused_naming_the_sources(
    two_uses: Path, tmp_path: Path
) -> None:
    data_dir = _copy(two_uses, tmp_path)
    _edit(data_dir / "policy.yaml", "share_alike_mix: split", "share_alike_mix: refuse")
    result = materialize_release(DataDir.at(data_dir), "v3")
    assert not result.success
    message = " ".join(failure_messages(result))
    assert "share-alike CC-BY-SA-4.0 (150 rows): ds1000-reference" in message
    assert (
        "no share-alike terms (520 rows): atropos-rubiks, bigcodebench-reference, "
        "cassettes-gpt-5-mini, fastchat-identity, hermes-agent-trajectories, mbpp-plus-reference, "
        "pydantic-ai-anthropic, pydantic-ai-openai-chat, swe-agent-demonstrations, "
        "swebench-lite-gold, tau-bench-gpt-4o-airline;"
    ) in message
    assert not (data_dir / "releases" / "v3").exists()


def test_a_license_the_use_does_not_accept_is_withheld_with_the_policy_key(
    two_uses: Path, tmp_path: Path
) -> None:
    data_dir = _copy(two_uses, tmp_path)
    _edit(data_dir / "policy.yaml", "                  CC-BY-SA-4.0]\n", "                  ]\n")
    _edit(data_dir / "policy.yaml", "    eval: *open\n", "    eval: [MIT]\n")
    result = materialize_release(DataDir.at(data_dir), "v3")
    assert result.success, failure_messages(result)
    fates = _fates(data_dir / "releases" / "v3")
    assert fates[("withheld", "license_not_accepted")] == 150
    document = read_release_json(data_dir / "releases" / "v3")
    assert document["configs"] == {"default": "Apache-2.0 AND CC-BY-4.0 AND MIT"}
    with duckdb.connect() as con:
        ((detail,),) = con.execute(
            "SELECT DISTINCT detail FROM read_parquet(?) WHERE reason = 'license_not_accepted'",
            [str(data_dir / "releases" / "v3" / "fates.parquet")],
        ).fetchall()
    assert detail == "CC-BY-SA-4.0: CC-BY-SA-4.0 not in policy licenses.accepted.train"


def test_a_seed_example_id_that_names_no_row_is_quarantined(two_uses: Path, tmp_path: Path) -> None:
    data_dir = _copy(two_uses, tmp_path)
    lane = data_dir / "lanes" / "swebench-lite-gold" / "part-000.jsonl"
    lines = lane.read_bytes().splitlines()
    with duckdb.connect() as con:
        ((known,),) = con.execute(
            "SELECT min(example_id) FROM read_parquet(?) WHERE origin_kind = 'lane'",
            [str(two_uses / "releases" / "v1" / "data" / "*.parquet")],
        ).fetchall()
    for index, seed in ((0, "ex_" + "f" * 24), (1, known)):
        record = json.loads(lines[index])
        record["seed_example_id"] = seed
        lines[index] = json.dumps(record).encode()
    lane.write_bytes(b"\n".join(lines) + b"\n")
    result = materialize_release(DataDir.at(data_dir), "v3")
    assert result.success, failure_messages(result)
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT source_line, fate, reason, detail FROM read_parquet(?) "
            "WHERE source_file = 'lanes/swebench-lite-gold/part-000.jsonl' AND source_line <= 2 "
            "ORDER BY 1",
            [str(data_dir / "releases" / "v3" / "fates.parquet")],
        ).fetchall()
    assert rows == [
        (1, "quarantined", "unknown_seed_example",
         f"seed_example_id ex_{'f' * 24} names no row of any lane or import"),
        (2, "released", None, None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("manifests/swebench-lite-gold.yaml", "license: MIT", "license: MIT-ish"),
            "manifests/swebench-lite-gold.yaml: license: 'MIT-ish' is not a valid SPDX",
        ),
        (
            ("evals/humaneval.yaml", "humaneval.rows0-108.jsonl", "x.jsonl"),
            "evals/humaneval.yaml: file: file 'evals/x.jsonl' not found",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_built(
    tmp_path: Path, capsys, edit: tuple[str, str, str], expected: str
) -> None:
    data_dir = copy_sample_data(tmp_path / "data")
    name, old, new = edit
    _edit(data_dir / name, old, new)
    assert main(["--data-dir", str(data_dir), "release"]) == 2
    err = capsys.readouterr().err
    assert "release refused before building" in err and expected in err
    assert not (data_dir / "warehouse").exists() and not (data_dir / "releases").exists()


def test_an_unknown_use_and_a_sheet_for_a_missing_release_are_clear_errors(
    tmp_path: Path, capsys
) -> None:
    data_dir = copy_sample_data(tmp_path / "data")
    with pytest.raises(SystemExit) as exit_info:
        main(["--data-dir", str(data_dir), "release", "--use", "training"])
    assert exit_info.value.code == 2
    assert "argument --use: invalid choice: 'training'" in capsys.readouterr().err
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("example_id,prompt_hash,response_sha256,verdict\n", encoding="utf-8")
    assert main(["--data-dir", str(data_dir), "review", "import", str(sheet),
                 "--reviewer", "a@b.example", "--release", "v9"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert f"{sheet}: --release v9: no published release v9" in err
