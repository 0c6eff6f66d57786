"""The code location's jobs as module-level functions, so a step subprocess can rebuild them.

`dg.reconstructable` records a function by module and name; each subprocess of the multiprocess
executor imports this module and calls it, which loads the definitions from `$BORN_DATA_DIR` and
picks the executor from `$BORN_EXECUTOR`, as the code location (`born_assets.definitions`) does.
The functions live apart from the test module so that a step process imports neither pytest nor
the test fixtures (conftest makes a Hypothesis temp dir on import).
"""

from __future__ import annotations

import dagster as dg

from born_assets.defs.automation import RELEASE_JOB, WAREHOUSE_JOB
from born_assets.defs.location import build_definitions
from born_assets.layout import DataDir
from born_assets.specs.project import Project


def _job(name: str) -> dg.JobDefinition:
    """The job `name` of the code location for the data dir in `$BORN_DATA_DIR`."""
    return build_definitions(Project.load(DataDir.from_env())).resolve_job_def(name)


def warehouse_job() -> dg.JobDefinition:
    """`build_warehouse`: every lane, import and curation stage, everything but the release."""
    return _job(WAREHOUSE_JOB)


def release_job() -> dg.JobDefinition:
    """`cut_release`: the release partition named by the run's partition key."""
    return _job(RELEASE_JOB)
