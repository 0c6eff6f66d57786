"""Task prompts: the manifest's template rendered with the fields of each task record.

A template is `str.format` text with named placeholders (`{prompt}`, `{task_id}`); write a literal
brace as `{{` or `}}`. Each placeholder takes the task record's field of the same name, or the
dotted field `generation.template_fields` maps it to; `{task_id}` is always the task's id. A
string value is inserted as it is, any other value as compact JSON. Task records come from the
manifest's JSONL task file (`tasks.file` + `tasks.id_field`); a lane whose tasks are bare ids (a
text file or `tasks.ids`) can only use `{task_id}`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from born_assets.layout import DataDir
from born_assets.schemas.identity import sha256_hex
from born_assets.specs.common import resolve_file
from born_assets.specs.manifests import LoadedManifest

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MISSING = object()


class GenerationConfigError(ValueError):
    """The manifest cannot drive generation; the message names the field (and file and line)."""


@dataclass(frozen=True)
class Template:
    """A prompt template: its id, text, SHA-256 of its UTF-8 bytes, and placeholders."""

    id: str
    text: str
    sha256: str
    placeholders: tuple[str, ...]

    def render(self, values: Mapping[str, str]) -> str:
        """The prompt exactly as it will be sent."""
        return self.text.format_map(values)


@dataclass(frozen=True)
class Task:
    """One task to generate for: its id and the rendered prompt."""

    task_id: str
    prompt: str


def placeholders(text: str) -> tuple[str, ...]:
    """The named placeholders of a template, in order, each once.

    Raises:
        GenerationConfigError: A placeholder is positional, indexed, or has a conversion.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise GenerationConfigError(f"prompt_template: {error}") from error
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not _NAME.match(name) or spec or conversion:
            raise GenerationConfigError(
                f"prompt_template: placeholder {{{name}}} must be a plain name like {{prompt}}"
                " (write a literal brace as {{ or }})"
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def load_template(loaded: LoadedManifest, data: DataDir) -> Template:
    """The manifest's template, checked against the hash recorded when the manifest loaded."""
    spec = loaded.manifest.prompt_template
    if spec.text is not None:
        text = spec.text
    else:
        assert spec.path is not None
        path = resolve_file(spec.path, loaded.path.parent, data, "prompt_template.path")
        text = path.read_text(encoding="utf-8")
    digest = sha256_hex(text.encode("utf-8"))
    if digest != loaded.template_hash:
        raise GenerationConfigError(
            f"prompt_template: {spec.id} changed since the manifest was loaded "
            f"({loaded.template_hash[:12]}... -> {digest[:12]}...); reload the definitions"
        )
    return Template(spec.id, text, digest, placeholders(text))


def _lookup(record: Any, dotted: str) -> Any:
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return _MISSING if value is None else value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode("utf-8")


def _records(loaded: LoadedManifest, data: DataDir) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(task id, line, record) of the task file, streamed; bare ids come with an empty record."""
    tasks = loaded.manifest.tasks
    if tasks.file is None or tasks.id_field is None:
        yield from ((task_id, 0, {}) for task_id in sorted(loaded.task_ids))
        return
    path = resolve_file(tasks.file, loaded.path.parent, data, "tasks.file")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise GenerationConfigError(f"{path.name} line {number}: {error}") from error
            task_id = _lookup(record, tasks.id_field)
            if task_id is _MISSING:
                raise GenerationConfigError(f"{path.name} line {number}: no {tasks.id_field!r}")
            yield str(task_id), number, record


def _values(
    template: Template, fields: Mapping[str, str], task_id: str, number: int, record: Any
) -> dict[str, str]:
    values = {"task_id": task_id}
    for name in template.placeholders:
        if name == "task_id":
            continue
        value = _lookup(record, fields.get(name, name))
        if value is _MISSING:
            raise GenerationConfigError(
                f"tasks.file line {number}: task {task_id!r} has no field "
                f"{fields.get(name, name)!r} for placeholder {{{name}}} "
                "(map it with generation.template_fields)"
            )
        values[name] = _text(value)
    return values


def iter_tasks(
    loaded: LoadedManifest, data: DataDir, template: Template, fields: Mapping[str, str]
) -> Iterator[Task]:
    """Every task of the lane with its rendered prompt, streamed in task-file order.

    Raises:
        GenerationConfigError: A task lacks a field the template needs, or an id repeats.
    """
    seen: dict[str, int] = {}
    for task_id, number, record in _records(loaded, data):
        if task_id in seen:
            raise GenerationConfigError(
                f"tasks.file line {number}: task {task_id!r} repeats line {seen[task_id]}"
            )
        seen[task_id] = number
        yield Task(task_id, template.render(_values(template, fields, task_id, number, record)))
