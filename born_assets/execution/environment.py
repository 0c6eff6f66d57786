"""What a run's result depends on besides its code and tests, hashed into every cache key.

The interpreter, the installed libraries, the sandbox's settings and the harness code.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from born_assets.schemas.execution import Isolation
from born_assets.specs.execution_policy import ExecutionLimits

HARNESS_FILES = (
    "driver.py",
    "harnesses.py",
    "sandbox.py",
    "isolation.py",
    "code.py",
    "outcome.py",
)
"""The modules whose code decides a result (a change re-runs everything)."""


def interpreter() -> str:
    """The implementation and version of this Python (the sandbox runs the same one)."""
    return f"{platform.python_implementation()} {platform.python_version()}"


@dataclass(frozen=True)
class Environment:
    """The installed distributions and the run settings; `sha256` identifies them."""

    interpreter: str
    distributions: Mapping[str, str]  # distribution name -> version
    sha256: str

    @classmethod
    def current(cls, isolation: Isolation, limits: ExecutionLimits) -> Environment:
        """This interpreter's environment under the given isolation and limits."""
        distributions = {}
        for distribution in importlib.metadata.distributions():
            metadata = distribution.metadata  # parsed on every access: 0.2 s for 215 of them
            if metadata["Name"]:
                distributions[metadata["Name"]] = metadata["Version"]
        harness = hashlib.sha256()
        for name in HARNESS_FILES:
            harness.update((Path(__file__).parent / name).read_bytes())
        identity: dict[str, object] = {
            "interpreter": interpreter(),
            "platform": sys.platform,
            "distributions": dict(sorted(distributions.items())),
            "isolation": isolation.value,
            "limits": limits.model_dump(mode="json"),
            "harness": harness.hexdigest(),
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return cls(interpreter(), distributions, digest)

    @cached_property
    def module_owners(self) -> Mapping[str, tuple[str, ...]]:
        """Top-level module -> the distributions providing it (read when a row first runs)."""
        return {m: tuple(ds) for m, ds in importlib.metadata.packages_distributions().items()}

    def versions(self, modules: Iterable[str]) -> dict[str, str]:
        """Module -> version of the distribution providing it (`?` when unknown)."""
        found = {}
        for module in sorted(modules):
            owners = self.module_owners.get(module, ())
            found[module] = next(
                (self.distributions[o] for o in owners if o in self.distributions), "?"
            )
        return found
