"""The release gate: no release while a blocking check on the warehouse did not pass last time.

Inside one run, Dagster's blocking checks already keep the release from reading bad data. A run
that cuts a release from an existing warehouse (the `cut_release` job, or "Materialize" on the
release in the UI) evaluates none of them, so their latest results, as recorded in the instance,
decide instead. The gate is a resource so that the code location states, in one place the UI
shows, which checks guard a release; the list is derived from the checks when definitions load.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
from pydantic import Field

# Statuses of an asset check execution record (`AssetCheckExecutionRecordStatus`).
_PLANNED = "PLANNED"
_SUCCEEDED = "SUCCEEDED"
_FAILED = "FAILED"
_IN_PROGRESS = frozenset(
    {
        dg.DagsterRunStatus.QUEUED,
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
    }
)
"""A run in one of these may still write the checks' results."""


def check_problem(
    instance: dg.DagsterInstance, key: dg.AssetCheckKey, run_id: str | None = None
) -> str | None:
    """Why the latest execution of a check holds a release back, or None when it does not.

    It lets the release through when it passed, or failed with severity WARN, or is still to
    run in the release's own run `run_id` (a check upstream of the release would already have
    run: Dagster makes the release wait for blocking checks upstream in the same run). Anything
    else holds it: a failure, no evaluation ever, or an execution without a result (running in
    another run, skipped because its asset failed, or an error in the check itself).
    """
    name = key.to_user_string()
    record = instance.get_latest_asset_check_evaluation_record(key)
    if record is None:
        return f"{name} was never evaluated"
    run = f"run {record.run_id[:8]}" if record.run_id else "a report outside any run"
    status = record.status.value
    if status == _SUCCEEDED or (status == _PLANNED and record.run_id == run_id):
        return None
    if status == _FAILED:
        evaluation = record.evaluation
        if evaluation is not None and evaluation.severity == dg.AssetCheckSeverity.WARN:
            return None
        return f"{name} failed in {run}"
    return f"{name} has no result from its latest execution ({run}: running, skipped or errored)"


class ReleaseGate(dg.ConfigurableResource):
    """The blocking checks whose latest execution must have passed before a release is cut."""

    checks: list[str] = Field(
        default_factory=list,
        description="Blocking checks that guard a release, as `asset/key:check_name`.",
    )

    def problems(self, instance: dg.DagsterInstance, run_id: str | None = None) -> list[str]:
        """One line per guarding check that holds a release back; empty when none does."""
        keys = [dg.AssetCheckKey.from_user_string(name) for name in self.checks]
        found = (check_problem(instance, key, run_id) for key in keys)
        return [problem for problem in found if problem is not None]

    def other_runs_building(self, instance: dg.DagsterInstance, run_id: str | None) -> list[str]:
        """Runs other than `run_id`, still in progress, that hold a guarding check's latest run."""
        runs = set()
        for name in self.checks:
            record = instance.get_latest_asset_check_evaluation_record(
                dg.AssetCheckKey.from_user_string(name)
            )
            if record is not None and record.run_id and record.run_id != run_id:
                runs.add(record.run_id)
        found = (instance.get_run_by_id(run) for run in sorted(runs))
        return [run.run_id[:8] for run in found if run is not None and run.status in _IN_PROGRESS]

    def refuse_if_failed(self, context: dg.AssetExecutionContext) -> None:
        """Raise `dg.Failure` naming every guarding check whose latest execution did not pass.

        Call it in the asset that publishes a release, before anything is written, and while
        holding the warehouse lock if there is one: no run can then rewrite a table between the
        gate and the cut (a run in progress shows as checks without a result, which refuse).
        """
        problems = self.problems(context.instance, context.run.run_id)
        if not problems:
            context.log.info(
                f"release gate: the {len(self.checks)} guarding checks passed last time"
            )
            return
        building = self.other_runs_building(context.instance, context.run.run_id)
        if building:
            raise dg.Failure(
                description=(
                    f"{context.asset_key.to_user_string()} refused: another run "
                    f"({', '.join(building)}) is building what a release reads, and "
                    f"{len(problems)} guarding check(s) have no result from it yet. Wait for it "
                    "to finish, then cut the release again (a run that died without saying so "
                    "shows as running: rebuild then)."
                ),
                metadata={"checks_not_passed": problems, "runs_in_progress": building},
            )
        raise dg.Failure(
            description=(
                f"{context.asset_key.to_user_string()} refused: {len(problems)} blocking "
                f"check(s) did not pass in their latest run: {'; '.join(problems)}. Fix the "
                "data, rebuild what the checks guard (build_warehouse, or the source with its "
                "downstream), then cut the release again."
            ),
            metadata={"checks_not_passed": problems, "checks_consulted": len(self.checks)},
        )


def release_gate(checks: Sequence[dg.AssetChecksDefinition]) -> ReleaseGate:
    """A gate over every blocking check among `checks` (the warehouse's checks)."""
    keys = {spec.key for definition in checks for spec in definition.check_specs if spec.blocking}
    return ReleaseGate(checks=sorted(key.to_user_string() for key in keys))
