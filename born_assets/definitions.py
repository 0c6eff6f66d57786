"""The born_assets code location: assembles what `project` builds from the data dir."""

import dagster as dg

from born_assets.defs.location import Project, build_definitions, data_dir_from_env


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions for the data dir named by `$BORN_DATA_DIR` (default `./data`)."""
    return build_definitions(Project.load(data_dir_from_env()))
