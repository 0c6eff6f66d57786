"""The code location must load, keep its shape, and survive a broken manifest.

The snapshot pins the graph people navigate in the UI (keys, groups, dependencies, check names):
a change to it should be deliberate. Update it with `BORN_UPDATE_SNAPSHOTS=1 make test`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from born_assets_tests.conftest import SNAPSHOTS
from born_assets_tests.graph import definitions, nodes

SNAPSHOT = SNAPSHOTS / "graph.json"


def graph_shape(defs: dg.Definitions) -> dict[str, dict[str, object]]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "kinds": sorted(node.kinds),
            "has_owner": bool(node.owners),
            "has_description": bool(node.description),
            "checks": sorted(c.name for c in node.check_keys),
            "blocking_checks": sorted(
                c.name for c in node.check_keys if graph.get_check_spec(c).blocking
            ),
        }
    return assets


def test_the_graph_matches_the_snapshot(data_dir: Path) -> None:
    shape = graph_shape(definitions(data_dir))
    if os.environ.get("BORN_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(shape, indent=2, sort_keys=True) + "\n")
    assert shape == json.loads(SNAPSHOT.read_text())


def test_every_manifest_gives_one_lane_asset(data_dir: Path) -> None:
    graph = definitions(data_dir).resolve_asset_graph()
    lanes = {k.path[1] for k in graph.get_all_asset_keys() if k.path[0] == "lanes"}
    assert lanes == {p.stem for p in (data_dir / "manifests").glob("*.yaml")}


def test_every_asset_has_description_owner_kinds_and_group(data_dir: Path) -> None:
    for name, node in graph_shape(definitions(data_dir)).items():
        assert node["has_description"] and node["has_owner"] and node["kinds"], name
        assert node["group"] in {"lanes", "imports", "curation", "governance", "release"}, name


def test_the_definitions_module_loads_with_the_env_data_dir(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("BORN_DATA_DIR", str(data_dir))
    from born_assets import definitions as module

    defs = dg.Definitions.merge(module.defs())
    assert (
        dg.AssetKey(["lanes", "humaneval-reference"])
        in defs.resolve_asset_graph().get_all_asset_keys()
    )


def test_a_broken_manifest_is_a_visible_failing_node_and_others_still_load(data_dir: Path) -> None:
    broken = data_dir / "manifests" / "zz-broken.yaml"
    broken.write_text("lane_id: zz-broken\nowner: nobody\n")
    defs = definitions(data_dir)
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["lanes", "zz_broken"]))
    assert node.description is not None
    assert "BROKEN SPEC" in node.description
    assert "zz-broken.yaml" in node.description
    assert "owner" in node.description
    assert dg.AssetKey(["lanes", "humaneval-reference"]) in graph.get_all_asset_keys()
    result = dg.materialize(
        nodes(defs),
        resources=defs.resources,
        selection=[dg.AssetKey(["lanes", "zz_broken"])],
        raise_on_error=False,
    )
    assert not result.success
