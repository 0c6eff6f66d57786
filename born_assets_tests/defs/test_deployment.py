"""The scale-out profile (deploy/k8s/) must be one deployment that Dagster and its chart accept.

Teams that outgrow one machine install it as it stands, so a wrong key, a path that differs
between the Helm values and the instance, or a step that cannot run in a pod of its own would
surface only in their cluster. No cluster, Helm or Docker is available where these tests run;
they check what can be checked without one, with the installed dagster, dagster-k8s and
dagster-postgres: the instance config validates class by class; the Job the K8sRunLauncher would
create for a run carries the shared volume, the data dir, the k8s executor and the Postgres
secret; the Helm values agree with the instance and use only keys the chart declares; and
`BORN_EXECUTOR` picks the executor it names, for every job of the real graph.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import kubernetes.client as k8s
import pytest
import yaml
from dagster._config import process_config
from dagster._config.evaluate_value_result import EvaluateValueResult
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.noop_compute_log_manager import NoOpComputeLogManager
from dagster._serdes import class_from_code_pointer
from dagster._serdes.config_class import ConfigurableClass, ConfigurableClassData
from dagster_k8s import K8sRunLauncher, k8s_job_executor
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import construct_dagster_k8s_job
from dagster_k8s.models import k8s_model_from_dict, k8s_snake_case_dict
from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from packaging.requirements import Requirement

from born_assets.defs.automation import WAREHOUSE_JOB
from born_assets.defs.executor import (
    EXECUTOR_ENV,
    EXECUTOR_NAMES,
    WORKERS_ENV,
    executor_from_env,
    workers_from_env,
)
from born_assets.defs.location import source_keys
from born_assets.layout import DATA_DIR_ENV, DataDir
from born_assets.specs.project import Project
from born_assets_tests.conftest import REPO
from born_assets_tests.graph import definitions

K8S_DIR = REPO / "deploy" / "k8s"
IMAGE = "registry.example.com/born-assets:test"
PG_ENV = {
    "DAGSTER_PG_HOST": "postgres.test",
    "DAGSTER_PG_USERNAME": "born",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-secret",
}
# A kubeconfig that points nowhere: enough for dagster-k8s to build API clients it never calls.
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
    "users": [{"name": "none", "user": {"token": "none"}}],
    "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
    "current-context": "none",
}


def load_yaml(name: str) -> Any:
    return yaml.safe_load((K8S_DIR / name).read_text())


@pytest.fixture
def pg_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in PG_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def instance_ref(tmp_path: Path, pg_env: None) -> InstanceRef:
    """deploy/k8s/dagster.yaml loaded as Dagster loads $DAGSTER_HOME/dagster.yaml."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((K8S_DIR / "dagster.yaml").read_text())
    return InstanceRef.from_dir(str(home))


def validate(
    data: ConfigurableClassData | None,
) -> tuple[type[ConfigurableClass], EvaluateValueResult[Mapping[str, Any]]]:
    """The class a config section names, and its config validated as `rehydrate` validates it.

    Stops before the constructor, which would connect to Postgres or to a cluster.
    """
    assert data is not None
    pointed = class_from_code_pointer(data.module_name, data.class_name)
    assert issubclass(pointed, ConfigurableClass)
    return pointed, process_config(pointed.config_type(), data.config_dict)


def resolve(data: ConfigurableClassData | None) -> tuple[type[ConfigurableClass], dict[str, Any]]:
    """The class a config section names and its validated config; fails the test if invalid."""
    klass, result = validate(data)
    assert result.success, [error.message for error in result.errors or []]
    return klass, dict(result.value or {})


def run_launcher(ref: InstanceRef, tmp_path: Path) -> K8sRunLauncher:
    """The instance's K8sRunLauncher, told to read a kubeconfig that points nowhere."""
    klass, config = resolve(ref.run_launcher_data)
    assert klass is K8sRunLauncher
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(KUBECONFIG))
    config.update(load_incluster_config=False, kubeconfig_file=str(kubeconfig))
    return K8sRunLauncher(inst_data=ref.run_launcher_data, **config)


def env_references(config: Any) -> set[str]:
    """Names of the environment variables a config refers to with `{env: NAME}`."""
    if isinstance(config, dict):
        if set(config) == {"env"}:
            return {config["env"]}
        return {name for value in config.values() for name in env_references(value)}
    if isinstance(config, list):
        return {name for value in config for name in env_references(value)}
    return set()


# (a) the instance config


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("storage_data", DagsterPostgresStorage),
        ("run_storage_data", PostgresRunStorage),
        ("event_storage_data", PostgresEventLogStorage),
        ("schedule_storage_data", PostgresScheduleStorage),
        ("run_launcher_data", K8sRunLauncher),
        ("run_coordinator_data", QueuedRunCoordinator),
        ("compute_logs_data", NoOpComputeLogManager),
    ],
)
def test_each_instance_section_names_its_class_and_validates(
    instance_ref: InstanceRef, section: str, expected: type
) -> None:
    klass, _ = resolve(getattr(instance_ref, section))
    assert klass is expected


def test_postgres_credentials_come_from_the_environment(instance_ref: InstanceRef) -> None:
    _, config = resolve(instance_ref.storage_data)
    db = config["postgres_db"]
    assert (db["hostname"], db["username"], db["db_name"], db["password"]) == (
        PG_ENV["DAGSTER_PG_HOST"],
        PG_ENV["DAGSTER_PG_USERNAME"],
        PG_ENV["DAGSTER_PG_DB"],
        PG_ENV["DAGSTER_PG_PASSWORD"],
    )


@pytest.mark.parametrize("missing", sorted(PG_ENV))
def test_the_instance_refuses_to_load_without_each_postgres_variable(
    instance_ref: InstanceRef, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.delenv(missing)
    _, result = validate(instance_ref.storage_data)
    assert not result.success
    assert any(missing in error.message for error in result.errors or [])


def test_the_run_queue_has_a_concurrency_limit(instance_ref: InstanceRef) -> None:
    _, config = resolve(instance_ref.run_coordinator_data)
    assert config["max_concurrent_runs"] > 0


def test_a_run_pod_gets_the_shared_volume_the_data_dir_and_the_k8s_executor(
    instance_ref: InstanceRef, tmp_path: Path
) -> None:
    launcher = run_launcher(instance_ref, tmp_path)
    run = DagsterRun(job_name=WAREHOUSE_JOB, run_id="6f1e0c5e-0000-4000-8000-000000000000")
    context = launcher.get_container_context_for_run(run)
    job = construct_dagster_k8s_job(
        job_config=context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher),
        args=["dagster", "api", "execute_run"],
        job_name="dagster-run-test",
        user_defined_k8s_config=context.run_k8s_config,
    )
    pod = job.spec.template.spec
    (container,) = pod.containers
    env = {var.name: var for var in container.env}
    mounts = {mount.name: mount.mount_path for mount in container.volume_mounts}
    volumes = {volume.name: volume for volume in pod.volumes}
    pvc = load_yaml("pvc.yaml")

    assert container.image == IMAGE
    assert env[EXECUTOR_ENV].value == "k8s"
    assert env[DATA_DIR_ENV].value == mounts["born-data"]
    assert volumes["born-data"].persistent_volume_claim.claim_name == pvc["metadata"]["name"]
    assert context.namespace == pvc["metadata"]["namespace"]
    secret = env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref
    assert (secret.name, secret.key) == (launcher.postgres_password_secret, "postgresql-password")
    # The pod is handed the instance in its command and resolves the instance's `env:` references
    # from its own environment: each must be set, with the launching process's value.
    referenced = env_references(load_yaml("dagster.yaml"))
    assert referenced == set(PG_ENV)
    assert {name: env[name].value for name in referenced - {"DAGSTER_PG_PASSWORD"}} == {
        name: PG_ENV[name] for name in referenced - {"DAGSTER_PG_PASSWORD"}
    }


# (b) the Helm values

# Keys of the dagster/dagster chart's values that a profile may set, transcribed from the chart's
# values schema (pydantic models under helm/dagster/schema/schema/charts/ in dagster-io/dagster:
# dagster/values.py; dagster/subschema/{global_,postgresql,run_launcher,daemon,
# compute_log_manager,telemetry}.py; dagster_user_deployments/subschema/user_deployments.py), as
# the stored code corpus holds them, which may be older than chart 1.13.27. The chart's generated
# values.schema.json was not available to vendor (the only stored copy predates the webserver
# rename), so this is the part of the schema this profile touches. A dict lists the keys allowed
# at that level; a one-item list is a list of such items; a tuple is the allowed values; a
# Kubernetes model class stands where the chart's schema refers to that Kubernetes type (checked
# strictly with the kubernetes client's model); `object` is a value not looked into.
IMAGE_KEYS = {"repository": str, "tag": object, "pullPolicy": ("Always", "IfNotPresent", "Never")}
USER_DEPLOYMENT = {
    "name": str,
    "image": IMAGE_KEYS,
    "dagsterApiGrpcArgs": [str],
    "codeServerArgs": [str],
    "includeConfigInLaunchedRuns": {"enabled": bool},
    "port": int,
    "env": [k8s.V1EnvVar],
    "envConfigMaps": object,
    "envSecrets": object,
    "annotations": object,
    "nodeSelector": object,
    "affinity": object,
    "tolerations": object,
    "podSecurityContext": object,
    "securityContext": object,
    "resources": k8s.V1ResourceRequirements,
    "livenessProbe": object,
    "readinessProbe": object,
    "startupProbe": object,
    "labels": object,
    "volumeMounts": [k8s.V1VolumeMount],
    "volumes": [k8s.V1Volume],
    "schedulerName": str,
}
K8S_RUN_LAUNCHER = {
    "image": IMAGE_KEYS,
    "imagePullPolicy": ("Always", "IfNotPresent", "Never"),
    "jobNamespace": str,
    "loadInclusterConfig": bool,
    "kubeconfigFile": str,
    "envConfigMaps": object,
    "envSecrets": object,
    "envVars": [str],
    "volumeMounts": [k8s.V1VolumeMount],
    "volumes": [k8s.V1Volume],
    "labels": object,
    "failPodOnRunFailure": bool,
    "resources": k8s.V1ResourceRequirements,
    "schedulerName": str,
    "securityContext": object,
    "runK8sConfig": object,
}
QUEUED_RUN_COORDINATOR = {
    "maxConcurrentRuns": int,
    "tagConcurrencyLimits": object,
    "dequeueIntervalSeconds": int,
    "dequeueNumWorkers": int,
    "dequeueUseThreads": bool,
}
CHART_VALUES = {
    "global": {
        "postgresqlSecretName": str,
        "dagsterHome": str,
        "serviceAccountName": str,
        "celeryConfigSecretName": str,
    },
    "dagster-user-deployments": {
        "enabled": bool,
        "enableSubchart": bool,
        "imagePullSecrets": object,
        "deployments": [USER_DEPLOYMENT],
    },
    "postgresql": {
        "image": object,
        "enabled": bool,
        "postgresqlHost": str,
        "postgresqlUsername": str,
        "postgresqlPassword": str,
        "postgresqlDatabase": str,
        "postgresqlParams": object,
        "postgresqlScheme": str,
        "service": {"port": int},
    },
    "generatePostgresqlPasswordSecret": bool,
    "runLauncher": {
        "type": ("CeleryK8sRunLauncher", "K8sRunLauncher", "CustomRunLauncher"),
        "config": {
            "celeryK8sRunLauncher": object,
            "k8sRunLauncher": K8S_RUN_LAUNCHER,
            "customRunLauncher": object,
        },
    },
    "dagsterDaemon": {
        **dict.fromkeys(
            [
                "image",
                "heartbeatTolerance",
                "env",
                "envConfigMaps",
                "envSecrets",
                "deploymentLabels",
                "labels",
                "nodeSelector",
                "affinity",
                "tolerations",
                "podSecurityContext",
                "securityContext",
                "resources",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "annotations",
                "runMonitoring",
                "runRetries",
                "sensors",
                "schedules",
                "schedulerName",
                "volumeMounts",
                "volumes",
            ],
            object,
        ),
        "enabled": bool,
        "runCoordinator": {
            "enabled": bool,
            "type": ("QueuedRunCoordinator", "CustomRunCoordinator"),
            "config": {
                "queuedRunCoordinator": QUEUED_RUN_COORDINATOR,
                "customRunCoordinator": object,
            },
        },
    },
    "computeLogManager": {
        "type": (
            "NoOpComputeLogManager",
            "AzureBlobComputeLogManager",
            "GCSComputeLogManager",
            "S3ComputeLogManager",
            "CustomComputeLogManager",
        ),
        "config": object,
    },
    "telemetry": {"enabled": bool},
    **dict.fromkeys(
        [
            "dagsterWebserver",
            "generateCeleryConfigSecret",
            "rabbitmq",
            "redis",
            "flower",
            "ingress",
            "imagePullSecrets",
            "scheduler",
            "pythonLogs",
            "busybox",
            "migrate",
            "serviceAccount",
            "retention",
            "additionalInstanceConfig",
        ],
        object,
    ),
}


def chart_errors(value: Any, schema: Any, path: str = "") -> list[str]:
    """Where `value` leaves the chart's schema: one message per offending key or value."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected a mapping"]
        unknown = [f"{path}.{key}: not a key of the chart" for key in value if key not in schema]
        known = [chart_errors(v, schema[k], f"{path}.{k}") for k, v in value.items() if k in schema]
        return unknown + [error for errors in known for error in errors]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [
            e for i, item in enumerate(value) for e in chart_errors(item, schema[0], f"{path}[{i}]")
        ]
    return leaf_errors(value, schema, path)


def leaf_errors(value: Any, schema: Any, path: str) -> list[str]:
    """A scalar, an allowed value, or a Kubernetes object checked by the kubernetes client."""
    if isinstance(schema, tuple):
        return [] if value in schema else [f"{path}: {value!r} is not one of {schema}"]
    if hasattr(schema, "openapi_types"):
        try:
            k8s_model_from_dict(schema, k8s_snake_case_dict(schema, value))
        except Exception as error:  # dagster-k8s raises bare Exception for unknown keys
            return [f"{path}: not a valid {schema.__name__}: {error}"]
        return []
    if schema is object or (
        isinstance(value, schema) and (schema is bool or not isinstance(value, bool))
    ):
        return []
    return [f"{path}: expected {schema.__name__}, got {value!r}"]


def test_every_helm_value_is_a_key_the_chart_declares() -> None:
    assert chart_errors(load_yaml("values.yaml"), CHART_VALUES) == []


def test_the_chart_check_catches_a_misspelt_key_and_a_bad_mount() -> None:
    values = load_yaml("values.yaml")
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    deployment["volumeMount"] = deployment["volumeMounts"]
    deployment["volumeMounts"] = [{"name": "born-data", "mountpath": "/opt/born/data"}]
    errors = chart_errors(values, CHART_VALUES)
    assert any("volumeMount: not a key" in error for error in errors)
    assert any("volumeMounts[0]: not a valid V1VolumeMount" in error for error in errors)


def user_deployment() -> dict[str, Any]:
    (deployment,) = load_yaml("values.yaml")["dagster-user-deployments"]["deployments"]
    return deployment


def chart_container_context(deployment: Mapping[str, Any]) -> K8sContainerContext:
    """What the chart hands the runs of a code location, as dagster-k8s reads it.

    The chart's `k8sContainerContext` template (charts/dagster-user-deployments/templates/helpers/
    _helpers.tpl) passes a deployment's `env` list, `volumes` and `volumeMounts` on as written.
    """
    return K8sContainerContext.create_from_config(
        {
            "k8s": {
                "env": deployment["env"],
                "volumes": deployment["volumes"],
                "volume_mounts": deployment["volumeMounts"],
            }
        }
    )


def born_env(context: K8sContainerContext) -> dict[str, str]:
    env = context.run_k8s_config.container_config["env"]
    return {var["name"]: var["value"] for var in env if var["name"].startswith("BORN_")}


def test_helm_runs_get_the_env_volumes_and_mounts_the_instance_gives_them(
    instance_ref: InstanceRef,
) -> None:
    _, launcher_config = resolve(instance_ref.run_launcher_data)
    from_instance = K8sContainerContext(
        env_vars=launcher_config["env_vars"],
        volumes=launcher_config["volumes"],
        volume_mounts=launcher_config["volume_mounts"],
    )
    from_chart = chart_container_context(user_deployment())
    assert born_env(from_chart) == born_env(from_instance)
    for config in ("container_config", "pod_spec_config"):
        chart_side = getattr(from_chart.run_k8s_config, config)
        instance_side = getattr(from_instance.run_k8s_config, config)
        for key in ("volumes", "volume_mounts"):
            assert chart_side.get(key) == instance_side.get(key)


def test_helm_values_and_instance_agree_on_launcher_queue_storage_and_logs(
    instance_ref: InstanceRef,
) -> None:
    values = load_yaml("values.yaml")
    launcher_class, launcher = resolve(instance_ref.run_launcher_data)
    queue_class, queue = resolve(instance_ref.run_coordinator_data)
    logs_class, _ = resolve(instance_ref.compute_logs_data)
    _, storage = resolve(instance_ref.storage_data)
    assert values["runLauncher"]["type"] == launcher_class.__name__
    assert values["global"]["postgresqlSecretName"] == launcher["postgres_password_secret"]
    assert values["postgresql"]["service"]["port"] == storage["postgres_db"]["port"]
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == queue_class.__name__
    assert (
        coordinator["config"]["queuedRunCoordinator"]["maxConcurrentRuns"]
        == queue["max_concurrent_runs"]
    )
    assert values["computeLogManager"]["type"] == logs_class.__name__
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["resources"] == launcher["resources"]
    assert values["telemetry"] == instance_ref.settings["telemetry"] == {"enabled": False}


def test_the_data_dir_is_the_mount_of_a_read_write_many_claim() -> None:
    deployment = user_deployment()
    pvc = load_yaml("pvc.yaml")
    k8s_model_from_dict(
        k8s.V1PersistentVolumeClaim, k8s_snake_case_dict(k8s.V1PersistentVolumeClaim, pvc)
    )
    env = {var["name"]: var["value"] for var in deployment["env"]}
    (volume,) = deployment["volumes"]
    (mount,) = deployment["volumeMounts"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert volume["persistentVolumeClaim"]["claimName"] == pvc["metadata"]["name"]
    assert mount["name"] == volume["name"]
    assert env[DATA_DIR_ENV] == mount["mountPath"]
    assert executor_from_env(env) is k8s_job_executor


def test_the_image_installs_the_extra_that_pins_the_installed_libraries() -> None:
    dockerfile = (K8S_DIR / "Dockerfile").read_text()
    assert "pip install '.[scale-out]'" in dockerfile
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    extra = [Requirement(r) for r in pyproject["project"]["optional-dependencies"]["scale-out"]]
    assert {r.name for r in extra} == {"dagster-k8s", "dagster-postgres"}
    for requirement in extra:
        assert requirement.specifier.contains(importlib.metadata.version(requirement.name))


# (c) the executor switch


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, dg.in_process_executor),
        ({EXECUTOR_ENV: ""}, dg.in_process_executor),
        ({EXECUTOR_ENV: "in_process"}, dg.in_process_executor),
        ({EXECUTOR_ENV: "multiprocess"}, dg.multiprocess_executor),
        ({EXECUTOR_ENV: "k8s"}, k8s_job_executor),
    ],
)
def test_each_value_picks_its_executor(
    environ: dict[str, str], expected: dg.ExecutorDefinition
) -> None:
    assert executor_from_env(environ) is expected


def test_the_process_environment_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(EXECUTOR_ENV, "multiprocess")
    assert executor_from_env() is dg.multiprocess_executor
    monkeypatch.delenv(EXECUTOR_ENV)
    assert executor_from_env() is dg.in_process_executor


def test_workers_come_from_the_environment() -> None:
    assert workers_from_env({}) == 0
    assert workers_from_env({WORKERS_ENV: "3"}) == 3
    with pytest.raises(ValueError, match=WORKERS_ENV):
        workers_from_env({WORKERS_ENV: "-1"})


@pytest.mark.parametrize("value", ["kubernetes", "K8S", "in-process", " k8s"])
def test_an_unknown_value_names_the_variable_and_the_choices(value: str) -> None:
    with pytest.raises(ValueError, match=EXECUTOR_ENV) as raised:
        executor_from_env({EXECUTOR_ENV: value})
    assert repr(value) in str(raised.value)
    assert all(name in str(raised.value) for name in EXECUTOR_NAMES)


def test_k8s_without_dagster_k8s_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "dagster_k8s", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"born_assets\[scale-out\]"):
        executor_from_env({EXECUTOR_ENV: "k8s"})


# (d) the real graph with BORN_EXECUTOR=k8s


@pytest.fixture
def k8s_definitions(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.setenv(EXECUTOR_ENV, "k8s")
    return definitions(data_dir)


def test_every_job_runs_its_steps_with_the_k8s_executor(k8s_definitions: dg.Definitions) -> None:
    jobs = k8s_definitions.get_repository_def().get_all_jobs()
    assert {job.name for job in jobs} >= {WAREHOUSE_JOB}
    assert {job.name: job.executor_def for job in jobs} == dict.fromkeys(
        (job.name for job in jobs), k8s_job_executor
    )


def test_each_lane_and_import_is_a_step_of_its_own(
    k8s_definitions: dg.Definitions, data_dir: Path
) -> None:
    job = k8s_definitions.resolve_job_def(WAREHOUSE_JOB)
    steps = {node.name for node in job.graph.nodes}
    sources = source_keys(Project.load(DataDir.at(data_dir)))
    assert len(sources) > 1
    assert {key.to_python_identifier() for key in sources} <= steps


def test_no_step_hands_a_value_to_another(k8s_definitions: dg.Definitions) -> None:
    """Steps in separate pods share only the warehouse, never a value passed between them.

    Every input is a `Nothing` dependency, so no IO manager has to carry a value from one pod's
    disk to another.
    """
    job = k8s_definitions.resolve_job_def(WAREHOUSE_JOB)
    valued = [
        f"{node.name}.{input_def.name}"
        for node in job.graph.nodes
        for input_def in node.definition.input_defs
        if not input_def.dagster_type.is_nothing
    ]
    assert valued == []


def test_the_k8s_executor_accepts_a_per_run_pod_limit(k8s_definitions: dg.Definitions) -> None:
    job = k8s_definitions.resolve_job_def(WAREHOUSE_JOB)
    config = dg.validate_run_config(job, {"execution": {"config": {"max_concurrent": 2}}})
    assert config["execution"]["k8s"]["max_concurrent"] == 2
