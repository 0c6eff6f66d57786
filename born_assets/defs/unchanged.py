"""Steps that keep their output when their inputs are unchanged (`store.unchanged`), for Dagster.

An asset asks `remembered_result` first: when its inputs have the content they had at its last
publish (re-verified by SHA-256, with the same versions), it returns that publish's metadata,
marked `inputs_unchanged`, and computes and publishes nothing. Otherwise it builds as usual, calls
`store.unchanged.record` in its staging folder, and returns through `remember_result`, which keeps
the metadata for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from born_assets import layout
from born_assets.defs.resources import WarehouseResource
from born_assets.store.unchanged import attach, remembered, step_key

INPUTS_UNCHANGED = "inputs_unchanged"


def remembered_result(
    warehouse: WarehouseResource,
    folder: Path,
    inputs: Sequence[Path],
    versions: Mapping[str, str],
) -> dg.MaterializeResult | None:
    """The last publish's result if the step's inputs are unchanged and its files intact.

    Args:
        warehouse: Its lock is held while the inputs and the folder are hashed.
        folder: The step's published folder (an asset's warehouse folder, a release's index).
        inputs: Every file the step reads.
        versions: What else its output depends on (code, policy).
    """
    if not (folder / layout.STEP_STATE).is_file():
        return None
    with warehouse.exclusive():
        metadata = remembered(folder, step_key(inputs, versions))
    if metadata is None:
        return None
    return dg.MaterializeResult(
        metadata={**dg.deserialize_value(metadata, dict), INPUTS_UNCHANGED: True}
    )


def remember_result(
    warehouse: WarehouseResource, folder: Path, step: str, metadata: Mapping[str, Any]
) -> dg.MaterializeResult:
    """The result with `metadata`, kept with the published `folder` built from `step` (its key)."""
    kept: dict[str, Any] = {**metadata, INPUTS_UNCHANGED: False}
    with warehouse.exclusive():
        attach(folder, step, dg.serialize_value(kept))
    return dg.MaterializeResult(metadata=kept)
