"""A generating lane asset asks its teacher, then ingests what it wrote, in one materialization.

The generation and the ingest are one step so that no row exists without its lineage; the asset
must fail loudly (naming the variable) when it cannot reach its endpoint rather than publish an
empty lane.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from born_assets_tests.generation.test_generation import LANE, NO_SECTIONS, make_lane, task_id
from born_assets_tests.graph import check_results, materialization_metadata, materialize_all
from born_assets_tests.openai_stub import OpenAIStub, ok, running

GENERATING_MANIFEST = """\
generation:
  seed: 5
  concurrency: 2
  timeout_s: 5
  backoff_s: 0.01
"""


def test_the_lane_asset_generates_then_ingests_with_every_check_passing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_lane(data_dir, 5)
    manifest = data_dir / "manifests" / f"{LANE}.yaml"
    manifest.write_text(manifest.read_text() + GENERATING_MANIFEST, encoding="utf-8")
    with running(OpenAIStub({task_id(2): [ok(NO_SECTIONS)]})) as stub:
        monkeypatch.setenv("BORN_TEACHER_BASE_URL", stub.base_url)
        monkeypatch.delenv("BORN_TEACHER_API_KEY", raising=False)
        result = materialize_all(data_dir, f"lanes/{LANE}")
        again = materialize_all(data_dir, f"lanes/{LANE}")
    meta = materialization_metadata(result, f"lanes/{LANE}")
    assert meta["generation_rows_written"] == 5
    assert meta["generation_failed_attempts"] == {"missing_sections": 1}
    assert (meta["rows_accepted"], meta["rows_quarantined"]) == (5, 0)
    assert all(check_results(result).values())
    assert materialization_metadata(again, f"lanes/{LANE}")["generation_rows_written"] == 0
    assert len(stub.seen) == 6


def test_a_generating_lane_without_its_endpoint_fails_naming_the_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_lane(data_dir, 1)
    manifest = data_dir / "manifests" / f"{LANE}.yaml"
    manifest.write_text(manifest.read_text() + GENERATING_MANIFEST, encoding="utf-8")
    monkeypatch.delenv("BORN_TEACHER_BASE_URL", raising=False)
    with pytest.raises(dg.Failure, match=r"\$BORN_TEACHER_BASE_URL is not set"):
        materialize_all(data_dir, f"lanes/{LANE}")
