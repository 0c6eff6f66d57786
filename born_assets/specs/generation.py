"""The `generation:` block of a lane manifest: endpoint, model, seed, limits and retries.

The endpoint's base URL and API key are never written in the manifest: it names the environment
variables that hold them (read through `dg.EnvVar` by the lane asset). Sampling parameters are
the manifest's top-level `sampling_params`, sent as they are, plus `seed` when it is set here.
"""

from __future__ import annotations

from pydantic import Field

from born_assets.specs.common import StrictModel

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class GenerationSpec(StrictModel):
    """How the lane asks its teacher for responses to the manifest's tasks."""

    base_url_env: str = Field(
        default="BORN_TEACHER_BASE_URL",
        pattern=ENV_NAME,
        description="Environment variable holding the base URL, e.g. `https://host/v1`.",
    )
    api_key_env: str | None = Field(
        default="BORN_TEACHER_API_KEY",
        pattern=ENV_NAME,
        description="Environment variable holding the API key (null: send no key).",
    )
    model: str | None = Field(
        default=None,
        min_length=1,
        description="Model id sent to the endpoint; defaults to `teacher.model`.",
    )
    seed: int | None = Field(
        default=None, description="Seed sent with every request and recorded on every row."
    )
    template_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Template placeholder -> dotted field of the task record (default: same name).",
    )
    concurrency: int = Field(default=4, ge=1, le=256, description="Requests in flight at once.")
    requests_per_second: float | None = Field(
        default=None, gt=0, description="Upper bound on requests started per second (null: none)."
    )
    timeout_s: float = Field(default=120.0, gt=0, description="Socket timeout of one request.")
    max_retries: int = Field(
        default=5, ge=0, le=20, description="Retries of one attempt on 429, 5xx or a reset link."
    )
    backoff_s: float = Field(
        default=1.0, ge=0, description="First retry delay; doubles per retry (jittered)."
    )
    max_backoff_s: float = Field(
        default=60.0, ge=0, description="Cap on one retry delay, Retry-After included."
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Failed attempts (timeout, invalid response) after which a task is left alone.",
    )
