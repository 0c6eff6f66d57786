"""The `pii` policy compiled for scanning: which detectors run, and what is a placeholder."""

from __future__ import annotations

import fnmatch
import ipaddress
import re

from born_assets.governance.pii_names import NameFinder
from born_assets.governance.pii_patterns import DETECTORS, Detector, fake_secret, fictional_phone
from born_assets.schemas.vocabulary import PiiKind
from born_assets.specs.pii_policy import PiiAction, PiiPolicy

_RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "localhost")
_RESERVED_TLDS = (".example", ".test", ".invalid", ".localhost")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128}")


class PiiScanner:
    """A `PiiPolicy` with its e-mail globs, networks and detectors compiled once."""

    def __init__(self, policy: PiiPolicy | None = None) -> None:
        """Compile `policy` (the defaults when None)."""
        self.policy = policy if policy is not None else PiiPolicy()
        actions = self.policy.actions
        self._wanted = frozenset(k for k, a in actions.items() if a is not PiiAction.IGNORE)
        detectors = [d for d in DETECTORS if not self._wanted.isdisjoint(d.kinds)]
        if PiiKind.PERSON_NAME in self._wanted:
            names = NameFinder(self.policy.names)
            detectors.append(Detector("person_name", (PiiKind.PERSON_NAME,), names))
        self._detectors = tuple(detectors)
        self._names = frozenset(name.casefold() for name in self.policy.placeholder_names)
        globs = "|".join(fnmatch.translate(g.lower()) for g in self.policy.placeholder_emails)
        self._emails = re.compile(globs) if globs else None
        self._networks = tuple(ipaddress.ip_network(n) for n in self.policy.placeholder_ip_networks)
        self._usernames = frozenset(name.lower() for name in self.policy.placeholder_usernames)

    def __reduce__(self) -> tuple[type[PiiScanner], tuple[PiiPolicy]]:
        """Pickle as the policy: a worker process compiles it again."""
        return (PiiScanner, (self.policy,))

    @property
    def actions(self) -> dict[PiiKind, PiiAction]:
        """The action per kind."""
        return self.policy.actions

    @property
    def wanted_kinds(self) -> frozenset[PiiKind]:
        """The kinds whose action is not ``ignore``."""
        return self._wanted

    @property
    def detectors(self) -> tuple[Detector, ...]:
        """The detectors that can find a wanted kind."""
        return self._detectors

    def is_placeholder(self, kind: PiiKind, value: str) -> bool:
        """True when `value`, found as `kind`, is a placeholder rather than real."""
        if kind is PiiKind.EMAIL:
            domain = value.lower().rpartition("@")[2]
            if domain in _RESERVED_DOMAINS or domain.endswith(_RESERVED_TLDS):
                return True
            return self._emails is not None and self._emails.match(value.lower()) is not None
        if kind is PiiKind.IP_ADDRESS:
            address = ipaddress.ip_address(value)
            return not address.is_global or any(address in net for net in self._networks)
        if kind is PiiKind.PHONE:
            return fictional_phone(value)
        if kind is PiiKind.USERNAME:
            return value.lower() in self._usernames
        if kind is PiiKind.PERSON_NAME:
            return value.casefold() in self._names or value.split(" ")[0].casefold() in self._names
        return self._fake_secret(kind, value)

    def _fake_secret(self, kind: PiiKind, value: str) -> bool:
        if kind is not PiiKind.PRIVATE_KEY:
            lowered = value.lower()
            if len(value) < self.policy.min_secret_chars:
                return True
            if any(part in lowered for part in self.policy.placeholder_secret_substrings):
                return True
            if kind is PiiKind.PASSWORD and _HEX_DIGEST.fullmatch(value):
                return True  # a stored hash, not the password
        return fake_secret(kind, value)
