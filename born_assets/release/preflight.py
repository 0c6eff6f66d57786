"""What must hold before a release is built: every spec, the policy and the requests load.

`release_preflight` loads everything a release reads and returns one line per problem, each
naming the file and the field (a licence that is not SPDX, an eval set whose benchmark file is
missing, a bad policy value, a broken erasure request, an embedding model asked for without the
extra that makes it). `born release` and the release asset refuse to build while it returns
anything: nothing is published that a later step of the same build could not finish.
"""

from __future__ import annotations

from born_assets.layout import DataDir
from born_assets.specs.erasure import load_requests
from born_assets.specs.evals import load_eval_sets
from born_assets.specs.policy import Policy, PolicyError
from born_assets.specs.project import Project
from born_assets.text.embedding import missing_extra


def release_preflight(data: DataDir) -> list[str]:
    """Every problem that would make a release untrue or unbuildable; [] when there is none."""
    project = Project.load(data)
    problems = [str(error) for error in [*project.lane_errors, *project.import_errors]]
    problems += [str(error) for error in load_eval_sets(data)[1]]
    try:
        policy = Policy.load(data.policy)
    except PolicyError as error:
        problems += str(error).splitlines()
    else:
        if policy.similarity.embedding_model is not None and (missing := missing_extra()):
            problems.append(f"{data.relative(data.policy)}: similarity.embedding_model: {missing}")
    requests = load_requests(data)
    if not hasattr(requests, "requests"):
        problems.append(str(requests))
    return problems
