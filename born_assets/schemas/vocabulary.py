"""The named values of the tables: where a row came from, what it may be used for, its fate.

Every enum here is a closed vocabulary that a column holds or a policy names; the schemas check
columns against them (`values`), so a table can only hold a value the code knows.
"""

from __future__ import annotations

from enum import StrEnum


class OriginKind(StrEnum):
    """Where a row entered the warehouse."""

    LANE = "lane"
    IMPORT = "import"


class SourceType(StrEnum):
    """Who wrote the response: a teacher model, a person, or a person editing a model."""

    REAL = "real"
    SYNTHETIC = "synthetic"
    HUMAN_EDITED = "human_edited"


class IntendedUse(StrEnum):
    """What a row may be used for."""

    TRAIN = "train"
    EVAL = "eval"
    RED_TEAM = "red_team"
    DEMO = "demo"


class ReviewStatus(StrEnum):
    """Human review state of a row."""

    UNREVIEWED = "unreviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    NEEDS_REVIEW = "needs_review"


class PiiScanStatus(StrEnum):
    """Whether and how a row was scanned for personal data and secrets."""

    NOT_SCANNED = "not_scanned"
    CLEAN = "clean"
    REDACTED = "redacted"
    FLAGGED = "flagged"


class ResponseFormat(StrEnum):
    """How `response` is encoded: teacher text, normalized trace turns (JSON), or a closure."""

    TEXT = "text"
    TURNS = "turns"
    CLOSURE = "closure"


class RowKind(StrEnum):
    """What a row is, for the policy's per-kind rules (`gates.kinds`).

    `tool_use`: its conversation declares tools or holds a tool call or result; else
    `code_task`: its family is one of `gates.kinds.code_task.families`; else `chat`.
    """

    CODE_TASK = "code_task"
    TOOL_USE = "tool_use"
    CHAT = "chat"


class TimestampSource(StrEnum):
    """Where a row's `generation_timestamp` comes from."""

    RECORD = "record"
    DECLARED = "declared"


class Fate(StrEnum):
    """The one recorded end of an input line.

    `accepted` is the only non-final value: the line passed every stage built so far and waits
    for a release to include it (then it is `released`). `withheld` marks a row a release kept
    out because of its use limits (an `eval` row in a training release): not bad, not released.
    """

    ACCEPTED = "accepted"
    RELEASED = "released"
    WITHHELD = "withheld"
    QUARANTINED = "quarantined"
    GATED_OUT = "gated_out"
    DUPLICATE = "duplicate"
    CONTAMINATED = "contaminated"
    ERASED = "erased"


class QuarantineReason(StrEnum):
    """Every reason a line can be refused. Counts by reason become metadata; they must reconcile."""

    NOT_UTF8 = "not_utf8"
    EMPTY_LINE = "empty_line"
    UNPARSEABLE_JSON = "unparseable_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"
    MISTYPED_FIELD = "mistyped_field"
    UNKNOWN_TASK = "unknown_task"
    TEACHER_MISMATCH = "teacher_mismatch"
    SOURCE_TYPE_MISMATCH = "source_type_mismatch"
    PROMPT_HASH_MISMATCH = "prompt_hash_mismatch"
    MISSING_PROVENANCE = "missing_provenance"
    BAD_TIMESTAMP = "bad_timestamp"
    DUPLICATE_LINE = "duplicate_line"
    FORMAT_MISMATCH = "format_mismatch"
    EMPTY_VISIBLE_CONTENT = "empty_visible_content"
    ERASED = "erased"
    UNKNOWN_SEED_EXAMPLE = "unknown_seed_example"
    UNSUPPORTED_FILE = "unsupported_file"
    UNREADABLE_FILE = "unreadable_file"


class Stage(StrEnum):
    """Pipeline stages that decide fates."""

    INGEST = "ingest"
    SANITIZE = "sanitize"
    GATE = "gate"
    DEDUP = "dedup"
    EXECUTE = "execute"
    GOVERNANCE = "governance"
    RELEASE = "release"


class ContaminationMethod(StrEnum):
    """How a training row was found to contain or claim an eval item (in precedence order)."""

    EXACT_PROMPT = "exact_prompt"
    EXACT_RESPONSE = "exact_response"
    NGRAM = "ngram"
    TASK_ID = "task_id"
    GENERATOR_OVERLAP = "generator_overlap"
    SIMILAR = "similar"  # MinHash similarity of the prompt to an eval text (paraphrases)


class PiiKind(StrEnum):
    """What a finding is; the declaration order is the priority when two findings overlap."""

    PRIVATE_KEY = "private_key"
    API_KEY = "api_key"
    TOKEN = "token"
    PASSWORD = "password"
    EMAIL = "email"
    PHONE = "phone"
    IP_ADDRESS = "ip_address"
    USERNAME = "username"  # the user directory of a home path: /Users/<name>/, /home/<name>/
    PERSON_NAME = "person_name"  # a person's name in prose (gazetteer and context rules)


SECRET_KINDS = frozenset({PiiKind.PRIVATE_KEY, PiiKind.API_KEY, PiiKind.TOKEN, PiiKind.PASSWORD})
"""The PII kinds that are secrets (credentials) rather than personal data."""


def values(enum: type[StrEnum]) -> list[str]:
    """The values of an enum, in declaration order (for `isin` checks)."""
    return [member.value for member in enum]
