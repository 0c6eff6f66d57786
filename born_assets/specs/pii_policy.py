"""`pii` in the policy file: what happens to each kind of finding, and what is a placeholder.

The settings only; `born_assets.governance.pii_scanner` compiles them into the scanner that the
`pii` stage runs.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from importlib.util import find_spec
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from born_assets.schemas.vocabulary import PiiKind
from born_assets.specs.common import StrictModel, require_every


class PiiAction(StrEnum):
    """What happens to a real finding: replaced, kept and counted, or not looked for."""

    REDACT = "redact"
    FLAG = "flag"
    IGNORE = "ignore"


# IP addresses in code are test fixtures and tool defaults; replacing them breaks the code.
DEFAULT_ACTIONS = {k: PiiAction.REDACT for k in PiiKind} | {
    PiiKind.IP_ADDRESS: PiiAction.FLAG,
    PiiKind.PERSON_NAME: PiiAction.FLAG,
}
# RFC 2606 / RFC 6761 names are always placeholders (in code); these are conventions.
_EMAILS = (
    "*@test.com", "*@test.org", "*@domain.com", "*@domain.org", "*@yourdomain.com",
    "*@mydomain.com", "*@company.com", "*@mycompany.com", "*@email.com", "your*@*", "user@*",
    "username@*", "someone@*", "john.doe@*", "jane.doe@*", "johndoe@*", "janedoe@*", "foo@*",
    "bar@*", "test@*", "git@github.com", "noreply@github.com", "notifications@github.com",
)  # fmt: skip
# Non-global addresses (private, loopback, documentation...) are always placeholders (in code).
_NETWORKS = (
    "8.8.8.8/32", "8.8.4.4/32", "1.1.1.1/32", "1.0.0.1/32", "9.9.9.9/32",
    "2001:4860:4860::8888/128", "2001:4860:4860::8844/128",
)  # fmt: skip
_SUBSTRINGS = (
    "your", "example", "dummy", "fake", "sample", "placeholder", "redacted", "changeme",
    "change_me", "insert", "replace", "test", "secret", "password", "passwd", "api_key", "apikey",
    "token", "hunter2", "letmein", "qwerty", "12345", "abcde",
)  # fmt: skip
_USERNAMES = (
    "user", "username", "name", "yourname", "your_username", "yourusername", "me", "you", "someone",
    "runner", "root", "ubuntu", "admin", "shared", "guest", "public", "default", "jovyan",
    "vagrant", "ec2-user", "travis", "circleci", "docker", "app", "nobody", "foo", "example",
)  # fmt: skip


_LOCALES = ("en_US", "en_GB", "en", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR",
            "nl_NL", "sv_SE", "zh_CN", "ja_JP")  # fmt: skip
_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Madam")
_CUES = ("Hi", "Hello", "Dear", "Thanks", "Thank you", "Cheers", "Regards", "Best regards",
         "Sincerely", "my name is", "name is", "I am", "signed", "Author:")  # fmt: skip
# Capitalized words that the name lists hold but that text mostly uses as words or products.
_NOT_NAMES = (
    "Will", "May", "June", "April", "August", "Page", "Grant", "Bill", "Mark", "Rich", "Chase",
    "Hope", "Joy", "Faith", "Art", "Van", "Von", "Dean", "Case", "Read", "Long", "Young", "Boss",
    "Claude", "Gemini", "Python", "Java", "Julia", "Ruby", "Django", "Flask", "Max", "Min",
    "Sage", "Story", "Sky", "Summer", "Winter", "Autumn", "Guy", "Major", "General", "Price",
    "Cook", "Jones", "Ford", "King", "Queen", "Love", "Star", "Booking", "Test", "The", "Le",
    "La", "Les", "Los", "Las", "El", "De", "Del", "Da", "Di", "Du", "Santa", "San", "Saint",
    "North", "South", "East", "West", "New", "Bell", "Oak", "Hill", "House", "Mona",
)  # fmt: skip
_NAME_KEYS = ("author", "authors", "author_name", "full_name", "first_name", "last_name",
              "passenger_name", "customer_name", "contact_name", "reviewer", "maintainer",
              "director", "artist")  # fmt: skip
_NAMES = ("John Doe", "Jane Doe", "John Smith", "Jane Smith", "Alice", "Bob", "Carol", "Dave",
          "Eve", "Mallory", "Max Mustermann", "Erika Mustermann", "Foo Bar")  # fmt: skip


class NamePolicy(StrictModel):
    """`pii.names`: the gazetteer's locales and the words and cues around names."""

    locales: tuple[str, ...] = _LOCALES
    not_names: tuple[str, ...] = _NOT_NAMES
    titles: tuple[str, ...] = _TITLES
    cues: tuple[str, ...] = _CUES
    name_keys: tuple[str, ...] = _NAME_KEYS

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, locale in enumerate(value):
            if not re.fullmatch(r"[a-z]{2}(?:_[A-Z]{2})?", locale) or not find_spec(
                f"faker.providers.person.{locale}"
            ):
                raise PydanticCustomError(
                    "policy_key",
                    "no person-name list for locale '{locale}'",
                    {"subkey": f"[{index}]", "locale": locale},
                )
        return value


class PiiPolicy(StrictModel):
    """`pii` in the policy file: the action per kind and what counts as a placeholder."""

    actions: dict[PiiKind, PiiAction] = Field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    placeholder_emails: tuple[str, ...] = _EMAILS
    placeholder_ip_networks: tuple[str, ...] = _NETWORKS
    placeholder_secret_substrings: tuple[str, ...] = _SUBSTRINGS
    placeholder_usernames: tuple[str, ...] = _USERNAMES
    placeholder_names: tuple[str, ...] = _NAMES
    min_secret_chars: Annotated[int, Field(strict=True, ge=1)] = 8
    names: NamePolicy = NamePolicy()

    @field_validator("actions")
    @classmethod
    def _every_kind(cls, value: dict[PiiKind, PiiAction]) -> dict[PiiKind, PiiAction]:
        require_every(value, PiiKind)
        return value

    @field_validator("placeholder_ip_networks")
    @classmethod
    def _networks_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, text in enumerate(value):
            try:
                ipaddress.ip_network(text)
            except ValueError as error:
                context = {"subkey": f"[{index}]", "error": str(error)}
                raise PydanticCustomError("policy_key", "{error}", context) from error
        return value
