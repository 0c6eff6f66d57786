"""Licences as SPDX expressions: validated against the SPDX list, and what each use accepts.

Every source (lane manifest, import spec, eval set) declares its licence as an SPDX expression
(`MIT`, `Apache-2.0 AND CC-BY-4.0`, `GPL-2.0-only WITH Classpath-exception-2.0`). It is parsed and
validated with `license-expression` (aboutcode's maintained SPDX parser, which ships the SPDX
licence list) when the spec loads: an unknown id or a broken expression is a spec error naming
the file and the `license` field. The expression is stored normalized (`apache-2.0` ->
`Apache-2.0`).

What a release of each use accepts is the policy's `licenses` section (`license_policy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseExpression,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    Licensing,
    get_spdx_licensing,
)
from pydantic import AfterValidator, Field


@cache
def _licensing() -> Licensing:
    """The SPDX licensing (built once, on first use: it reads the bundled licence index)."""
    return get_spdx_licensing()


def normalize_spdx(expression: str) -> str:
    """`expression` validated and normalized as an SPDX licence expression.

    Raises:
        ValueError: The expression does not parse or names an id outside the SPDX list.
    """
    info = _licensing().validate(expression)
    if info.errors or info.normalized_expression is None:
        problems = "; ".join(info.errors) or "does not parse"
        raise ValueError(
            f"{expression!r} is not a valid SPDX license expression ({problems}); "
            "see https://spdx.org/licenses/ for the ids"
        )
    return str(info.normalized_expression)


def spdx_id(value: str) -> str:
    """One SPDX licence id (no operators), normalized.

    Raises:
        ValueError: Not an SPDX id, or an expression of several.
    """
    normalized = normalize_spdx(value)
    if " " in normalized:
        raise ValueError(f"{value!r} must be one SPDX license id, not an expression")
    return normalized


SpdxExpression = Annotated[str, Field(min_length=1), AfterValidator(normalize_spdx)]
"""A spec field holding an SPDX licence expression, validated and normalized at load."""
SpdxId = Annotated[str, Field(min_length=1), AfterValidator(spdx_id)]


def parse(expression: str) -> LicenseExpression:
    """The parsed expression tree (AND, OR, symbols).

    Raises:
        ValueError: The expression does not parse or names an unknown id.
    """
    try:
        return _licensing().parse(expression, validate=True)
    except ExpressionError as error:
        raise ValueError(f"{expression!r}: {error}") from error


def _key(symbol: LicenseSymbol) -> str:
    if isinstance(symbol, LicenseWithExceptionSymbol):
        return str(symbol.license_symbol.key)
    return str(symbol.key)


def license_ids(expression: str) -> frozenset[str]:
    """Every licence id an expression names (exceptions left out)."""
    parsed = parse(expression)
    return frozenset(_key(symbol) for symbol in parsed.symbols)


def satisfiable(node: Any, accepted: frozenset[str]) -> bool:
    """True when the expression can be met using accepted ids only (OR: one branch suffices)."""
    if isinstance(node, AND):
        return all(satisfiable(arg, accepted) for arg in node.args)
    if isinstance(node, OR):
        return any(satisfiable(arg, accepted) for arg in node.args)
    return _key(node) in accepted


def combine(expressions: Iterable[str]) -> str:
    """One SPDX expression for rows under all of `expressions`: an AND of their parts.

    The top-level parts of each expression are deduplicated and sorted, so the result does not
    depend on the order the expressions come in (`MIT AND Apache-2.0` -> `Apache-2.0 AND MIT`).

    Returns:
        `NONE` (the SPDX keyword for "no licence") when there are no expressions.
    """
    parts: set[str] = set()
    for text in expressions:
        parsed = parse(text)
        for part in parsed.args if isinstance(parsed, AND) else (parsed,):
            rendered = str(part.render())
            parts.add(f"({rendered})" if isinstance(part, OR) else rendered)
    return " AND ".join(sorted(parts, key=lambda p: p.strip("(").casefold())) if parts else "NONE"
