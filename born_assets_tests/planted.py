"""Planted near duplicates and paraphrases of real rows, and what similarity makes of them.

The rows are the repo's sample lanes (real BigCodeBench and SWE-bench Lite tasks with their
reference answers, see data/README.md) and its eval sets (HumanEval, MBPP). Each planted copy is
made by one seeded, deterministic edit:

- `reworded`: about one word in twelve of the prompt replaced by a synonym or dropped;
- `reformatted`: re-indented, re-wrapped, upper-cased, punctuation spaced differently;
- `renamed`: every identifier the code defines (functions, arguments, variables) renamed.

`python -m born_assets_tests.planted` prints the figures reported in docs/similarity.md; the
tests in curation/ and governance/ assert the same measurements stay above their floors.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from born_assets.curation.near_dedup import find_near_duplicates
from born_assets.governance.eval_index import EvalText
from born_assets.governance.eval_similarity import EvalSimilarity
from born_assets.specs.policy import Policy
from born_assets.text.minhash import sign
from born_assets_tests.conftest import SAMPLE_DATA

SYNONYMS = {
    "a": "one", "the": "this", "list": "array", "return": "give back", "returns": "gives back",
    "function": "routine", "given": "provided", "number": "integer", "numbers": "integers",
    "string": "text", "find": "compute", "write": "create", "each": "every", "of": "from",
    "should": "must", "output": "produce", "with": "using", "and": "plus", "is": "is",
    "data": "records", "value": "entry", "values": "entries", "dataframe": "table",
    "random": "arbitrary", "generate": "create", "calculate": "compute", "file": "document",
    "check": "verify", "whether": "if", "in": "inside", "to": "into",
}  # fmt: skip
_IDENT_DEF = re.compile(r"\bdef (\w+)\(([^)]*)\)|^\s*(\w+)\s*=(?!=)", re.MULTILINE)


@dataclass(frozen=True)
class Row:
    """One real row: an id, its prompt and its answer."""

    row_id: str
    prompt: str
    response: str


def lane_rows(
    lanes: tuple[str, ...] = ("bigcodebench-reference", "swebench-lite-gold"),
) -> list[Row]:
    """The rows of sample lanes whose tasks are all different (no benchmark perturbations)."""
    rows = []
    for lane in lanes:
        for path in sorted((SAMPLE_DATA / "lanes" / lane).glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                rows.append(Row(str(record["task_id"]), record["prompt"], record["response"]))
    return rows


def eval_items() -> list[Row]:
    """The sample eval sets' items (HumanEval prompt + solution, MBPP text + code)."""
    rows = []
    for name, prompt, answer, key in (
        ("humaneval.rows0-108.jsonl", "prompt", "canonical_solution", "task_id"),
        ("mbpp-test.tasks11-510.jsonl", "text", "code", "task_id"),
    ):
        for line in (SAMPLE_DATA / "evals" / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            rows.append(Row(str(record[key]), record[prompt], record[answer]))
    return rows


def reworded(text: str, rng: random.Random) -> str:
    """About one word in twelve replaced by a synonym or dropped."""
    out = []
    for word in text.split(" "):
        key = word.lower().strip(".,:;")
        if rng.random() < 1 / 12:
            if key in SYNONYMS:
                out.append(SYNONYMS[key])
            continue
        out.append(SYNONYMS[key] if key in SYNONYMS and rng.random() < 0.3 else word)
    return " ".join(out)


def reformatted(text: str, rng: random.Random) -> str:
    """Re-indented with tabs, lines re-wrapped, upper case, commas and colons spaced."""
    lines = [("\t" if rng.random() < 0.5 else "  ") + line.strip() for line in text.splitlines()]
    joined = "\n\n".join(lines).upper()
    return joined.replace(",", " , ").replace(":", " :")


def renamed(text: str, rng: random.Random) -> str:
    """Every name the code defines (function, arguments, assigned variables) renamed."""
    names: set[str] = set()
    for match in _IDENT_DEF.finditer(text):
        if match.group(1):
            names.add(match.group(1))
            names.update(re.findall(r"(\w+)\s*(?:=|:|,|$)", match.group(2)))
        elif match.group(3):
            names.add(match.group(3))
    names = {n for n in names if len(n) > 1 and not n[0].isdigit()}
    for number, name in enumerate(sorted(names)):
        text = re.sub(rf"\b{re.escape(name)}\b", f"v{number}_{rng.randrange(100)}", text)
    return text


EDITS: dict[str, Callable[[str, random.Random], str]] = {
    "reworded": reworded,
    "reformatted": reformatted,
    "renamed": renamed,
}


def planted_copy(row: Row, edit: str, seed: int) -> Row:
    """A copy of `row` with one edit applied to its prompt (reworded) or both texts."""
    rng = random.Random(f"{seed}:{row.row_id}:{edit}")
    change = EDITS[edit]
    prompt = change(row.prompt, rng)
    response = row.response if edit == "reworded" else change(row.response, rng)
    return Row(f"{row.row_id}~{edit}~{seed}", prompt, response)


def near_dedup_quality(policy: Policy, seed: int = 16) -> dict[str, dict[str, float]]:
    """Per edit: recall of planted copies and false positive rate on the unrelated real rows."""
    originals = lane_rows()
    results = {}
    params = policy.similarity.with_shingles(policy.near_dedup.shingle_words)
    for edit in EDITS:
        copies = [planted_copy(row, edit, seed) for row in originals]
        rows = originals + copies
        signatures = sign([[r.prompt, r.response] for r in rows], params)
        ranks = np.arange(len(rows), dtype=np.int64)  # originals first: copies are the drops
        found = find_near_duplicates(signatures, ranks, policy)
        n = len(originals)
        caught = sum(int(found.duplicate_of[n + i]) == i for i in range(n))
        false = int(np.count_nonzero(found.duplicate_of[:n] >= 0))
        results[edit] = {"recall": caught / n, "false_positive_rate": false / n, "rows": n}
    return results


def contamination_quality(policy: Policy, seed: int = 16) -> dict[str, float]:
    """Recall on paraphrased eval prompts, precision against unrelated lane prompts."""
    items = eval_items()
    texts = [EvalText(0, k, "evals", item.row_id, "prompt") for k, item in enumerate(items)]
    measure = EvalSimilarity.build(texts, [item.prompt for item in items], policy.similarity.params)
    threshold = policy.contamination.similarity_threshold or 1.0
    planted = [
        (k, planted_copy(item, edit, seed).prompt)
        for k, item in enumerate(items)
        for edit in ("reworded", "renamed")
    ]
    unrelated = [row.prompt for row in lane_rows()]
    similar_planted = measure.measure([text for _, text in planted])
    similar_unrelated = measure.measure(unrelated)
    hits = sum(
        float(similar_planted[n, k]) >= threshold and int(similar_planted[n].argmax()) == k
        for n, (k, _) in enumerate(planted)
    )
    flagged_unrelated = int(np.count_nonzero(similar_unrelated.max(axis=1) >= threshold))
    flagged = int(np.count_nonzero(similar_planted.max(axis=1) >= threshold)) + flagged_unrelated
    return {
        "threshold": threshold,
        "planted": len(planted),
        "recall": hits / len(planted),
        "unrelated": len(unrelated),
        "unrelated_flagged": flagged_unrelated,
        "precision": (flagged - flagged_unrelated) / flagged if flagged else 1.0,
    }


if __name__ == "__main__":
    repo_policy = Policy.load(SAMPLE_DATA / "policy.yaml")
    print(json.dumps({"near_dedup": near_dedup_quality(repo_policy)}, indent=2))
    print(json.dumps({"contamination": contamination_quality(repo_policy)}, indent=2))
