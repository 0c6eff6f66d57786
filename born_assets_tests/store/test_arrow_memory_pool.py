"""Arrow allocates from jemalloc once the store is imported, unless the user names a pool.

Each case runs in a fresh interpreter: the pool is process state, set when the module loads.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

from born_assets.store.parquet import MEMORY_POOL_ENV

_PROBE = (
    "import pyarrow as pa; import born_assets.store.parquet; "
    "print(pa.default_memory_pool().backend_name)"
)


def _pool_after_import(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != MEMORY_POOL_ENV}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_the_store_switches_arrow_to_jemalloc() -> None:
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow is built without jemalloc; the default pool stays")
    assert _pool_after_import() == "jemalloc"


def test_a_pool_the_user_names_wins() -> None:
    assert _pool_after_import(**{MEMORY_POOL_ENV: "system"}) == "system"
