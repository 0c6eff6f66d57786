"""`licenses` in the policy file: what each release use accepts, and how terms may mix.

The policy says, per release use, which licence ids it accepts, which ids carry share-alike
(copyleft) and non-commercial terms, which uses may take non-commercial rows, and what a release
that would mix share-alike rows with rows under other terms does: `refuse` it, naming the
sources, or `split` it into one Hugging Face config per set of compatible terms.
`license_verdict` applies that to one expression for one use.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import Field, field_validator

from born_assets.schemas.vocabulary import IntendedUse
from born_assets.specs.common import StrictModel, key_error
from born_assets.specs.licenses import SpdxId, license_ids, parse, satisfiable


class MixAction(StrEnum):
    """What a release does when share-alike rows would share it with rows under other terms."""

    REFUSE = "refuse"
    SPLIT = "split"


_PERMISSIVE = (
    "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "Unlicense", "CC0-1.0",
    "CC-BY-4.0", "Zlib", "PSF-2.0", "Python-2.0",
)  # fmt: skip
_SHARE_ALIKE = (
    "CC-BY-SA-3.0", "CC-BY-SA-4.0", "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only",
    "GPL-3.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "MPL-2.0", "ODbL-1.0",
    "CC-BY-NC-SA-4.0",
)  # fmt: skip
_NON_COMMERCIAL = ("CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0")
_ACCEPTED: tuple[str, ...] = _PERMISSIVE + _SHARE_ALIKE


class LicensePolicy(StrictModel):
    """`licenses` in the policy file: accepted ids per use, share-alike and non-commercial terms.

    A use missing from `accepted` accepts no licence at all (every row is withheld).
    """

    accepted: dict[IntendedUse, tuple[SpdxId, ...]] = Field(
        default_factory=lambda: dict.fromkeys(IntendedUse, _ACCEPTED)
    )
    share_alike: tuple[SpdxId, ...] = _SHARE_ALIKE
    non_commercial: tuple[SpdxId, ...] = _NON_COMMERCIAL
    non_commercial_uses: tuple[IntendedUse, ...] = ()
    share_alike_mix: MixAction = MixAction.REFUSE

    @field_validator("accepted")
    @classmethod
    def _ids_listed_once(
        cls, value: dict[IntendedUse, tuple[str, ...]]
    ) -> dict[IntendedUse, tuple[str, ...]]:
        for use, ids in value.items():
            if len(set(ids)) != len(ids):
                raise key_error(str(use), "lists a license id twice")
        return value


class LicenseRefusal(StrEnum):
    """Why a release withholds a row because of its licence."""

    NOT_ACCEPTED = "license_not_accepted"
    NON_COMMERCIAL = "license_non_commercial"
    INCOMPATIBLE_TERMS = "license_incompatible_terms"


@dataclass(frozen=True)
class LicenseVerdict:
    """What the policy says about one licence expression in a release for one use.

    `refusal` and `detail` say why rows under it are withheld (None: accepted). `terms` names the
    share-alike licence the rows carry ("" for none): rows with different terms may not share one
    release config.
    """

    expression: str
    refusal: LicenseRefusal | None
    detail: str | None
    terms: str


def license_verdict(expression: str, use: IntendedUse, policy: LicensePolicy) -> LicenseVerdict:
    """Decide one licence expression for a release of `use` (see `LicensePolicy`).

    An `OR` needs one branch the release may take, an `AND` every part: `MIT OR CC-BY-NC-4.0`
    is taken as MIT. The share-alike terms are those the rows cannot be taken without.
    """
    parsed = parse(expression)
    ids = license_ids(expression)
    usable = frozenset(policy.accepted.get(use, ()))
    if not satisfiable(parsed, usable):
        missing = ", ".join(sorted(ids - usable))
        detail = f"{expression}: {missing} not in policy licenses.accepted.{use.value}"
        return LicenseVerdict(expression, LicenseRefusal.NOT_ACCEPTED, detail, "")
    if use not in policy.non_commercial_uses:
        usable -= set(policy.non_commercial)
        if not satisfiable(parsed, usable):
            named = ", ".join(sorted(ids & set(policy.non_commercial)))
            detail = (
                f"{expression}: non-commercial terms ({named}); policy "
                f"licenses.non_commercial_uses does not list {use.value}"
            )
            return LicenseVerdict(expression, LicenseRefusal.NON_COMMERCIAL, detail, "")
    plain = usable - set(policy.share_alike)
    if satisfiable(parsed, plain):
        return LicenseVerdict(expression, None, None, "")
    alone = [s for s in sorted(ids & usable & set(policy.share_alike))
             if satisfiable(parsed, plain | {s})]  # fmt: skip
    if not alone:
        named = ", ".join(sorted(ids & set(policy.share_alike)))
        detail = f"{expression}: its share-alike licenses ({named}) cannot be met together"
        return LicenseVerdict(expression, LicenseRefusal.INCOMPATIBLE_TERMS, detail, "")
    return LicenseVerdict(expression, None, None, alone[0])
