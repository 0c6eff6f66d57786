"""The born_assets code location: every definition found in the `defs/` folder."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Definitions loaded from `born_assets/defs/` (see `born_assets.defs.location`)."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
