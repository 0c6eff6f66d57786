"""A lane's generation plan: the manifest and its `generation:` block, checked before any request.

The plan fixes what makes a generation key (task id, template hash, sampling parameters as sent,
seed, model id), reads the template and streams the task file once to find a task a placeholder
cannot be filled for, so a bad manifest fails before it costs a request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from born_assets.generation.attempts import generation_key
from born_assets.generation.client import ChatClient, RateLimiter, RetryPolicy
from born_assets.generation.records import EXTRA_FIELDS, RowContext
from born_assets.generation.tasks import (
    GenerationConfigError,
    Task,
    Template,
    iter_tasks,
    load_template,
)
from born_assets.layout import DataDir
from born_assets.schemas.vocabulary import SourceType
from born_assets.specs.generation import GenerationSpec
from born_assets.specs.manifests import LoadedManifest

RESERVED_PARAMS = frozenset({"model", "messages", "stream", "n"})


@dataclass(frozen=True)
class GenerationPlan:
    """Everything one lane's generation needs, checked before any request is sent."""

    loaded: LoadedManifest
    data: DataDir
    template: Template
    context: RowContext
    template_fields: dict[str, str]
    max_attempts: int
    concurrency: int
    task_count: int

    @property
    def lane_dir(self) -> Path:
        """The lane's output folder, where generated rows land."""
        return self.data.root / self.loaded.manifest.output.path

    def key(self, task_id: str) -> str:
        """The generation key of one task under this plan."""
        c = self.context
        return generation_key(task_id, c.template_sha256, c.params, c.seed, c.request_model)

    def tasks(self) -> Iterator[Task]:
        """The lane's tasks with their rendered prompts, in task-file order."""
        return iter_tasks(self.loaded, self.data, self.template, self.template_fields)


def _params(loaded: LoadedManifest, spec: GenerationSpec) -> tuple[dict[str, Any], int | None]:
    params = dict(loaded.manifest.sampling_params)
    reserved = sorted(RESERVED_PARAMS & params.keys())
    if reserved:
        raise GenerationConfigError(f"sampling_params: {', '.join(reserved)} cannot be set here")
    carried = params.get("seed")
    if spec.seed is not None and carried is not None and carried != spec.seed:
        raise GenerationConfigError(
            f"generation.seed: {spec.seed} contradicts sampling_params.seed {carried}"
        )
    seed = spec.seed if spec.seed is not None else carried
    if seed is not None:
        params["seed"] = seed
    return params, seed


def plan_generation(loaded: LoadedManifest, spec: GenerationSpec, data: DataDir) -> GenerationPlan:
    """Check that the manifest can drive generation and read its template and tasks.

    Raises:
        GenerationConfigError: Naming the field: a lane that is not synthetic, a reserved or
            contradictory sampling parameter, a template placeholder no task can fill.
    """
    manifest = loaded.manifest
    if manifest.source_type is not SourceType.SYNTHETIC:
        raise GenerationConfigError(
            f"source_type: a generating lane is synthetic, not {manifest.source_type.value!r}"
        )
    clash = sorted(set(EXTRA_FIELDS) & set(manifest.output.fields.model_dump().values()))
    if clash:
        raise GenerationConfigError(f"output.fields: {', '.join(clash)} is a generation field")
    params, seed = _params(loaded, spec)
    template = load_template(loaded, data)
    plan = GenerationPlan(
        loaded=loaded,
        data=data,
        template=template,
        context=RowContext(
            teacher_model=manifest.teacher.model,
            request_model=spec.model or manifest.teacher.model,
            template_id=manifest.prompt_template.id,
            template_sha256=template.sha256,
            params=params,
            seed=seed,
            fields=manifest.output.fields,
        ),
        template_fields=dict(spec.template_fields),
        max_attempts=spec.max_attempts,
        concurrency=spec.concurrency,
        task_count=0,
    )
    return replace(plan, task_count=sum(1 for _ in plan.tasks()))


def chat_client(
    spec: GenerationSpec, base_url: str, api_key: str | None, *, jitter: bool = True
) -> ChatClient:
    """The client a spec describes, for an endpoint resolved from its environment variables."""
    return ChatClient(
        base_url=base_url,
        api_key=api_key,
        timeout_s=spec.timeout_s,
        retry=RetryPolicy(spec.max_retries, spec.backoff_s, spec.max_backoff_s, jitter),
        limiter=RateLimiter(spec.requests_per_second),
    )
