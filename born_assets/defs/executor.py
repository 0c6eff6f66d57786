"""Where a run's steps execute, chosen by `$BORN_EXECUTOR` when the definitions load.

One machine keeps today's default, every step in the run's own process. The Kubernetes profile
(`deploy/k8s/`, `docs/scale-out.md`) sets `BORN_EXECUTOR=k8s`, so each step (each lane and import
asset, each check) runs in a pod of its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

EXECUTOR_ENV = "BORN_EXECUTOR"
WORKERS_ENV = "BORN_WORKERS"
IN_PROCESS = "in_process"
MULTIPROCESS = "multiprocess"
K8S = "k8s"
EXECUTOR_NAMES = (IN_PROCESS, MULTIPROCESS, K8S)


def executor_from_env(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor named by `$BORN_EXECUTOR`; unset or empty means `in_process`.

    `multiprocess` runs each step in a subprocess of the run worker; `k8s` runs each step as a
    Kubernetes Job through `dagster_k8s.k8s_job_executor`, which needs the `scale-out` extra and an
    instance whose run launcher is the `K8sRunLauncher`. dagster-k8s is imported only for `k8s`.

    Args:
        environ: The environment to read; `os.environ` when None.

    Returns:
        The executor definition for every job of the code location.

    Raises:
        ValueError: The variable names no known executor.
        ImportError: `k8s` was asked for and dagster-k8s is not installed.
    """
    env = os.environ if environ is None else environ
    name = env.get(EXECUTOR_ENV) or IN_PROCESS
    if name == IN_PROCESS:
        return dg.in_process_executor
    if name == MULTIPROCESS:
        return dg.multiprocess_executor
    if name == K8S:
        return _k8s_executor()
    raise ValueError(
        f"{EXECUTOR_ENV}={name!r} is not a known executor; "
        f"use one of {', '.join(EXECUTOR_NAMES)} (unset means {IN_PROCESS})"
    )


def _k8s_executor() -> dg.ExecutorDefinition:
    """`dagster_k8s.k8s_job_executor`, with the install hint if dagster-k8s is missing."""
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError as error:
        raise ImportError(
            f"{EXECUTOR_ENV}={K8S} needs dagster-k8s: pip install 'born_assets[scale-out]'"
        ) from error
    return k8s_job_executor


def workers_from_env(environ: Mapping[str, str] | None = None) -> int:
    """Worker processes for the CPU-bound stages: `$BORN_WORKERS`, 0 (one per usable CPU) unset.

    Set it to a pod's CPU request: inside a container the machine's CPUs are all visible.

    Raises:
        ValueError: The variable is not a whole number >= 0.
    """
    env = os.environ if environ is None else environ
    text = env.get(WORKERS_ENV) or "0"
    if not text.isdigit():
        raise ValueError(f"{WORKERS_ENV}={text!r} must be a whole number >= 0 (0 = one per CPU)")
    return int(text)
