"""The asset catalog reads well before anything is built: columns, code links, plain sentences.

A new user opens the UI on a fresh clone: every table should already show its columns and a link
to its code, every description should read as a sentence, and the release's columns should say
what they hold (the released `response` is sanitized closure text, not the raw response).
"""

from __future__ import annotations

import dagster as dg
import pyarrow.parquet as pq

from born_assets.defs.assets.curation import GATED_KEY
from born_assets.defs.assets.sanitized import SANITIZED_KEY
from born_assets.defs.metadata import passthrough_lineage
from born_assets.schemas.curation import GatedRecord, SanitizedRecord
from born_assets.schemas.derive import arrow_schema, column_docs
from born_assets.schemas.release import ReleaseRecord
from born_assets_tests.conftest import SAMPLE_DATA
from born_assets_tests.graph import definitions

WITHOUT_TABLE = {"erasure"}  # tombstones only; its schema belongs to the erasure work


def _specs() -> list[dg.AssetSpec]:
    defs = definitions(SAMPLE_DATA)
    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    return [spec for a in assets for spec in a.specs]


def test_every_table_asset_declares_its_columns_and_links_its_code_before_a_run() -> None:
    for spec in _specs():
        name = spec.key.to_user_string()
        assert "dagster/code_references" in spec.metadata, name
        if name not in WITHOUT_TABLE:
            schema = spec.metadata["dagster/column_schema"]
            assert isinstance(schema, dg.TableSchema) and schema.columns, name


def test_descriptions_are_plain_sentences() -> None:
    for spec in _specs():
        text = spec.description or ""
        assert text.rstrip().endswith("."), spec.key
        assert not any(line.lstrip().startswith("#") for line in text.splitlines()), spec.key


def test_carried_columns_point_at_the_upstream_column_of_the_same_name() -> None:
    lineage = passthrough_lineage(GatedRecord, [(SANITIZED_KEY, SanitizedRecord)])
    sanitized = {d.name for d in column_docs(SanitizedRecord)}
    assert set(lineage.deps_by_column) == {d.name for d in column_docs(GatedRecord)} & sanitized
    (dep,) = lineage.deps_by_column["example_id"]
    assert dep.asset_key == SANITIZED_KEY and dep.column_name == "example_id"
    assert GATED_KEY not in {d.asset_key for deps in lineage.deps_by_column.values() for d in deps}


def test_the_released_response_is_described_as_sanitized_closure_text(tmp_path) -> None:
    (response,) = [d for d in column_docs(ReleaseRecord) if d.name == "response"]
    assert "before sanitization" not in response.description
    assert "closure text" in response.description
    path = tmp_path / "empty.parquet"
    pq.write_table(arrow_schema(ReleaseRecord).empty_table(), path)
    stored = pq.read_schema(path).field("response").metadata[b"description"].decode()
    assert stored == response.description
