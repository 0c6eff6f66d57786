"""The key of a sandboxed test result: (code hash, test hash, environment hash).

Results live in a `store.result_cache.ResultCache` under that key, so a rerun executes only new
code. The entry holds the verdict and the measurements of the run that produced it.
"""

from __future__ import annotations

from born_assets.schemas.identity import sha256_hex


def cache_key(code_sha256: str, tests_sha256: str, environment_sha256: str) -> str:
    """The key of one result."""
    return sha256_hex(f"{code_sha256}\0{tests_sha256}\0{environment_sha256}".encode())
