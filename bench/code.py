"""Seeded Python source for synthetic responses: helper functions, a main function, asserts.

Every template parses (`ast.parse`); `break_syntax` makes a block that does not. Names and
numbers come from the caller's `random.Random`, so blocks differ from row to row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.texts import ADJECTIVES, NOUNS, VERBS, Bits

HELPERS = (
    '''def {f}({a}, {b}={n}):
    """{Verb} the {adj} {noun}s of `{a}`, scaled by `{b}`."""
    {c} = []
    for {i}, {d} in enumerate({a}):
        if {d} % {m} == {r}:
            {c}.append({d} * {b} + {i})
    return {c}
''',
    '''def {f}({a}):
    """Count each {noun} of `{a}`; most frequent first."""
    {c} = {{}}
    for {d} in {a}:
        {c}[{d}] = {c}.get({d}, 0) + 1
    return sorted({c}.items(), key=lambda pair: (-pair[1], pair[0]))
''',
    '''def {f}({a}, {b}):
    """Index where `{b}` would be inserted into the sorted `{a}`."""
    if not {a}:
        return 0
    {c}, {d} = 0, len({a}) - 1
    while {c} <= {d}:
        {i} = ({c} + {d}) // 2
        if {a}[{i}] < {b}:
            {c} = {i} + 1
        else:
            {d} = {i} - 1
    return {c}
''',
    '''@dataclass
class {C}:
    """A {adj} {noun} with its {noun2}."""

    {a}: int = {n}
    {b}: str = "{noun2}"

    def {f}(self, {c}: int) -> int:
        # the weight grows with the label length
        return self.{a} * {c} + len(self.{b})
''',
    '''def {f}({a}: str) -> str:
    """Capitalize the long words of `{a}` ({adj} {noun}s stay lower case)."""
    {c} = {a}.split()
    {d} = [{i}.capitalize() if len({i}) > {r} else {i}.lower() for {i} in {c}]
    return " ".join({d})
''',
    '''def {f}({a}: int, {b}: dict[int, int] | None = None) -> int:
    """Number of ways to {verb} `{a}` {noun}s, memoised in `{b}`."""
    {b} = {{}} if {b} is None else {b}
    if {a} < {r} + 2:
        return 1
    if {a} not in {b}:
        {b}[{a}] = {f}({a} - 1, {b}) + {f}({a} - 2, {b})
    return {b}[{a}]
''',
    '''def {f}({a}, {b}={r}):
    """Sliding windows of `{b}` {noun}s over `{a}`, with their sums."""
    {c} = []
    {d} = sum({a}[:{b}])
    for {i} in range({b}, len({a}) + 1):
        {c}.append(({i} - {b}, {d}))
        if {i} < len({a}):
            {d} += {a}[{i}] - {a}[{i} - {b}]
    return {c}
''',
)


FN_SUFFIX = "@N@"


@dataclass(frozen=True)
class Helper:
    """A helper definition whose function name ends in `FN_SUFFIX` (replaced per row)."""

    text: str
    defines: str  # the name it defines, with the suffix marker
    is_function: bool


def _var(bits: Bits) -> str:
    return f"{bits.pick(ADJECTIVES)}_{bits.pick(NOUNS)}"


def helper(rng: random.Random) -> Helper:
    """One helper definition filled from a seeded template."""
    bits = Bits(rng, 256)
    template = bits.pick(HELPERS)
    fn = f"{bits.pick(VERBS)}_{bits.pick(NOUNS)}{FN_SUFFIX}"
    cls = bits.pick(ADJECTIVES).capitalize() + bits.pick(NOUNS).capitalize() + FN_SUFFIX
    a, b, c, d, i = (_var(bits) for _ in range(5))
    if len({a, b, c, d, i}) < 5:  # rare collisions of names: keep the code meaningful
        a, b, c, d, i = (f"{v}_{k}" for k, v in enumerate((a, b, c, d, i)))
    text = template.format(
        f=fn,
        C=cls,
        a=a,
        b=b,
        c=c,
        d=d,
        i=i,
        n=1 + bits.below(49),
        m=2 + bits.below(7),
        r=bits.below(2),
        adj=bits.pick(ADJECTIVES),
        noun=bits.pick(NOUNS),
        noun2=bits.pick(NOUNS),
        Verb=bits.pick(VERBS).capitalize(),
        verb=bits.pick(VERBS),
    )
    is_function = not template.startswith("@dataclass")
    return Helper(text, fn if is_function else cls, is_function)


def program(rng: random.Random, helpers: tuple[Helper, ...], fn: str, chars: int) -> str:
    """Imports, pooled helpers until about `chars` characters, and `fn` calling a helper."""
    parts = ["from dataclasses import dataclass\n"]
    if rng.random() < 0.5:
        parts.append(f"import {rng.choice(('math', 'itertools', 'functools', 'collections'))}\n")
    size = sum(map(len, parts))
    first = ""
    while size < chars - 200 or not first:
        for item in rng.choices(helpers, k=max(1, int((chars - size) / 330))):
            parts.append("\n\n")
            parts.append(item.text)
            size += len(item.text) + 2
            first = first or (item.defines if item.is_function else "")
            if size >= chars - 200 and first:
                break
    arg = rng.choice(NOUNS) + "s"
    parts.append(
        f'\n\ndef {fn}({arg}):\n    """Entry point: {rng.choice(VERBS)} the {arg}."""\n'
        f"    if not {arg}:\n        return []\n    return list({first}({arg}))\n"
    )
    return "".join(parts).replace(FN_SUFFIX, f"_{rng.randrange(1000)}")


def asserts(rng: random.Random, fn: str) -> str:
    """A few assert lines about `fn`."""
    lines = [f"assert {fn}([]) == []"]
    for _ in range(rng.randrange(1, 4)):
        values = ", ".join(str(rng.randrange(100)) for _ in range(rng.randrange(1, 6)))
        lines.append(f"assert isinstance({fn}([{values}]), list)")
    return "\n".join(lines) + "\n"


def break_syntax(code: str, rng: random.Random) -> str:
    """The same code with one syntax error: a colon dropped or a bracket left open."""
    lines = code.split("\n")
    defs = [k for k, line in enumerate(lines) if line.startswith("def ")]
    k = rng.choice(defs)
    if rng.random() < 0.5:
        lines[k] = lines[k].rstrip(":")
    else:
        lines[k] = lines[k].replace("(", "((", 1)
    return "\n".join(lines)
