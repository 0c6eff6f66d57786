"""The detectors behind `born_assets.governance.pii`, and the shapes of fake values.

Each `Detector` yields candidate spans and rejects shapes that are structurally not PII: an IPv4
that is a version string, a JWT whose parts are not base64 JSON, a ``1::2`` slice, a Python
attribute chain after ``@``. Whether a valid value is a placeholder is decided in `pii`, against
the policy, with the value-shape rules at the end of this module.

Provider key shapes come from detect-secrets' maintained plugins (their ``denylist`` patterns, run
with ``finditer`` so that spans are known). Its entropy plugins, its keyword plugin (no spans) and
its plugins without a literal prefix (Twilio, Telegram, Discord, Mailchimp, Artifactory, IBM) are
not used: see the measurements in ``born_assets_tests/test_pii.py``.

Speed: Python's ``re`` skips ahead fast only when a pattern starts with a literal, so patterns
start with one and check the character before the match in Python; slow patterns run only in a
window around a hit of a literal-first one; ``triggers`` gate the few that cannot start with a
literal (case-insensitive ones).
"""

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from detect_secrets.filters.heuristic import is_potential_uuid, is_sequential_string
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

from born_assets.schemas.vocabulary import SECRET_KINDS, PiiKind

__all__ = ["DETECTORS", "SECRET_KINDS", "Detector", "fake_secret", "fictional_phone"]


Hit = tuple[int, int, PiiKind]
Finder = Callable[[str, str], Iterator[Hit]]
Check = Callable[[str, re.Match[str]], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    """One shape of PII or secret.

    Attributes:
        name: Recorded as `Finding.detector`, e.g. ``email`` or ``detect_secrets.GitHubToken``.
        kinds: The kinds its hits can have.
        find: Called with the text and its lower-cased copy (same length); yields
            ``(start, end, kind)``.
        triggers: The detector runs only if one of these occurs in the lower-cased text.
    """

    name: str
    kinds: tuple[PiiKind, ...]
    find: Finder
    triggers: tuple[str, ...] = ()


def _regex(
    kind: PiiKind, patterns: tuple[re.Pattern[str], ...], group: int, check: Check | None
) -> Finder:
    """A finder yielding `group`'s span of each match of `patterns` that passes `check`."""

    def find(text: str, _lowered: str) -> Iterator[Hit]:
        for pattern in patterns:
            for match in pattern.finditer(text):
                if check is None or check(text, match):
                    yield (*match.span(group), kind)

    return find


def _windowed(
    kind: PiiKind, cheap: str, strict: re.Pattern[str], back: int, check: Check
) -> Finder:
    """Run `strict` only from `back` characters before to 45 after each hit of `cheap`."""
    cheap_patterns = tuple(re.compile(part) for part in cheap.split(" "))

    def find(text: str, _lowered: str) -> Iterator[Hit]:
        last_end = 0
        for hit in _merged(cheap_patterns, text):
            if hit.start() < last_end:
                continue
            stop = min(len(text), hit.end() + 45)
            match = strict.search(text, max(last_end, hit.start() - back), stop)
            while match is not None and not check(text, match):
                match = strict.search(text, match.start() + 1, stop)
            if match is not None and (match.end() + 2 <= stop or stop == len(text)):
                last_end = match.end()  # (a match near `stop` may have been cut short)
                yield (*match.span(), kind)

    return find


def _merged(patterns: tuple[re.Pattern[str], ...], text: str) -> list[re.Match[str]]:
    """The matches of several patterns, in order of start offset."""
    matches = [match for pattern in patterns for match in pattern.finditer(text)]
    if len(patterns) > 1:
        matches.sort(key=lambda match: match.start())
    return matches


def _after(extra: str) -> Check:
    """The match starts a token: the character before is neither alphanumeric nor in `extra`."""

    def check(text: str, match: re.Match[str]) -> bool:
        start = match.start()
        return start == 0 or not (text[start - 1].isalnum() or text[start - 1] in extra)

    return check


_WORD_START, _TOKEN_START, _PATH_START = _after("_-"), _after("_-+/"), _after("._-~")


def _mixed(_text: str, match: re.Match[str]) -> bool:
    """Letters mixed with digits, as in generated keys (``sk-learn-classifier-x`` is no key)."""
    value = match.group(match.lastindex or 0)
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _key(text: str, match: re.Match[str]) -> bool:
    return _WORD_START(text, match) and _mixed(text, match)


# --- e-mail: start at the literal "@", then match the local part backwards --------------------
# The TLD must be a two-letter country code or a common generic TLD: Python attribute chains after
# "@" (``the@agent.instructions``, ``x@self.weights``) are not addresses.
_EMAIL_DOMAIN = re.compile(
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))(?![\w-]|\.\w)"
)
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}\Z")
_LOCAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_GENERIC_TLDS = frozenset((
    "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "io", "ai",
    "dev", "app", "xyz", "online", "site", "tech", "cloud", "email", "mail", "page", "blog",
    "shop", "store", "museum", "aero", "coop", "jobs", "travel", "mobi", "asia", "tel", "test",
    "example", "invalid", "localhost", "local", "internal",
))  # fmt: skip
_ESCAPES = ("\\n", "\\t", "\\r")  # JSON escapes in tool arguments: "\nbob@corp.org"


def _find_emails(text: str, _lowered: str) -> Iterator[Hit]:
    for match in _EMAIL_DOMAIN.finditer(text):
        tld = match.group(2).lower()
        local = _EMAIL_LOCAL.search(text, max(0, match.start() - 64), match.start())
        if (len(tld) != 2 and tld not in _GENERIC_TLDS) or local is None:
            continue
        start = local.start()
        if text.startswith(_ESCAPES, start - 1) and start + 1 < match.start():
            start += 1
        elif start > 0 and text[start - 1] in _LOCAL_CHARS:
            continue  # a local part longer than 64 characters: not an address
        if not local.group().endswith("."):
            yield start, match.end(), PiiKind.EMAIL


# --- phone numbers and IP addresses -------------------------------------------------------------
# Phones: NANP numbers with separators and valid area/exchange codes, or "+<country code>" with at
# least two separated groups. Bare digit runs are never phones (ids, timestamps, arrays).
_BEFORE = r"(?:(?<=\\[ntr])|(?<![\w.+-]))"  # a boundary, or a JSON escape such as "\n"
_NANP = re.compile(
    _BEFORE + r"(?:\+?1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}([.-]))[2-9]\d{2}[.-]\d{4}"
    r"(?![\w-]|\.\d)"
)
_INTL = re.compile(r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-](?:\(\d{1,4}\)|\d{1,4})){2,5}(?![\w-]|\.\d)")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(r"(?:(?<=\\[ntr])|(?<![\w.]))" + rf"(?:{_OCTET}\.){{3}}{_OCTET}(?![\w.]|/\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:.]|/\d)")
_VERSION_PREFIXES = ("-", "==", ">=", "<=", "~=", "!=", "@", "^")


def _nanp(_text: str, match: re.Match[str]) -> bool:
    """One separator style: ``555.123-4567`` is not a phone number as written."""
    return match.group(1) is None or match.group()[-5] == match.group(1)


def _international(_text: str, match: re.Match[str]) -> bool:
    return 8 <= sum(char.isdigit() for char in match.group()) <= 15


def _ipv4(text: str, match: re.Match[str]) -> bool:
    """Not a version string.

    Some part is >= 32 (``3.10.0.1`` is a version) and no version operator or package name comes
    before it (``brotlicffi-1.0.9.200``, ``==2.0.0.100``).
    """
    if all(int(part) < 32 for part in match.group().split(".")):
        return False
    return not text[max(0, match.start() - 2) : match.start()].endswith(_VERSION_PREFIXES)


def _ipv6(_text: str, match: re.Match[str]) -> bool:
    """At least three non-empty groups (``1::2`` and ``11:00:00`` are out) and a valid address."""
    if sum(1 for group in match.group().split(":") if group) < 3:
        return False
    try:
        ipaddress.IPv6Address(match.group())
    except ValueError:
        return False
    return True


# --- private keys: detect-secrets finds only the header; the whole block is the secret --------
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_BODY = re.compile(r"(?:[A-Za-z0-9+/=:,\- \t\r\n]|\\[nr])*")


def _find_private_keys(text: str, _lowered: str) -> Iterator[Hit]:
    position = 0
    while (begin := _PEM_BEGIN.search(text, position)) is not None:
        footer = f"-----END {begin.group(1)}-----"
        end = text.find(footer, begin.end())
        if end == -1:  # cut off: the key runs to the end of its base64 body
            body = _PEM_BODY.match(text, begin.end())
            position = body.end() if body is not None else begin.end()
        else:
            position = end + len(footer)
        yield begin.start(), position, PiiKind.PRIVATE_KEY


# --- assigned passwords, keys and tokens --------------------------------------------------------
# A secret-sounding identifier, an assignment and a quoted literal (code, JSON, YAML; the quotes
# may be JSON-escaped), or an unquoted value in an env-file line (``DB_PASSWORD=...``). Unquoted
# values elsewhere are code (``password = get_password()``, ``password: str``), not secrets.
# Keyword hits come from the lower-cased copy; the whole identifier names the kind (``tokenizer``
# and ``hotkey`` name none).
_KEYWORDS = tuple(
    re.compile(word + r"\w*(?=(?:\\?[\"'\]]){0,2}\s*(?:=|:=?|=>)\s*\\?[\"'`]|=[^\s\"'`])")
    for word in ("pass", "pwd", "secret", "key", "token")
)
_IDENTIFIER_START = re.compile(r"\w*\Z")
_NAME_KINDS = (
    (re.compile(r"(?:auth|access|refresh|api|bearer|session)_?token"), PiiKind.TOKEN),
    (re.compile(r"(?:api|access|secret|private)_?key"), PiiKind.API_KEY),
    (re.compile(r"passw(?:or)?d|passphrase|pwd|secret"), PiiKind.PASSWORD),
)
_QUOTED_VALUE = re.compile(
    r"(?:\\?[\"'\]]){0,2}\s*(?:=|:=?|=>)\s*(\\?[\"'`])([^\"'`\n\\]{1,200})\1"
)
_ENV_VALUE = re.compile(r"=([^\s\"'`]{1,200})(?=\r?\n|\Z)")
_ENV_LINE_START = re.compile(r"(?:^|\n)[ \t]*(?:export[ \t]+)?\Z")


def _assigned_value(text: str, start: int, end: int) -> re.Match[str] | None:
    """The quoted value assigned to the identifier at `start:end`, or an env-file value."""
    quoted = _QUOTED_VALUE.match(text, end)
    if quoted is not None or not text[start:end].isupper():
        return quoted
    env_line = _ENV_LINE_START.search(text, max(0, start - 40), start)
    return _ENV_VALUE.match(text, end) if env_line is not None else None


def _find_assignments(text: str, lowered: str) -> Iterator[Hit]:
    last_end = 0
    for hit in _merged(_KEYWORDS, lowered):
        if hit.start() < last_end:
            continue
        identifier = _IDENTIFIER_START.search(lowered, max(0, hit.start() - 40), hit.start())
        begin, last_end = identifier.start() if identifier else hit.start(), hit.end()
        name = lowered[begin:last_end]
        kind = next((kind for pattern, kind in _NAME_KINDS if pattern.search(name)), None)
        value = _assigned_value(text, begin, last_end) if kind is not None else None
        if kind is not None and value is not None:
            yield (*value.span(value.lastindex or 0), kind)


# --- the detectors ------------------------------------------------------------------------------
def _compiled(*patterns: str, flags: int = 0) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern, flags) for pattern in patterns)


def _jwt(text: str, match: re.Match[str]) -> bool:
    return _TOKEN_START(text, match) and bool(JwtTokenDetector.is_formally_valid(match.group()))


def _bearer(text: str, match: re.Match[str]) -> bool:
    """``Bearer <token>`` as a word, with a generated-looking token."""
    start = match.start()
    word = start > 0 and text[start - 1] in "Bb" and (start == 1 or not text[start - 2].isalnum())
    return word and _mixed(text, match)


def _windows_home(text: str, match: re.Match[str]) -> bool:
    r"""``C:\Users\<name>`` (or JSON-escaped ``C:\\Users\\<name>``)."""
    before = text[max(0, match.start() - 4) : match.start()]
    return before.endswith((":\\", ":\\\\")) and not match.group(1).isdigit()


def _home(text: str, match: re.Match[str]) -> bool:
    return _PATH_START(text, match) and not match.group(1).isdigit()


_K, _T, _P, _U = PiiKind.API_KEY, PiiKind.TOKEN, PiiKind.PASSWORD, PiiKind.USERNAME
_USER_DIR = r"([^/\\\s\"'<>:;,|*?`{}$]{1,64})"
_PUTTY = r"PuTTY-User-Key-File-\d:[^\n]*(?:\n[^\n]*){0,60}?\nPrivate-MAC: [0-9a-f]+"
_OPENAI = r"sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
_AWS_KEY_ID = r"A(?:KIA|SIA)[0-9A-Z]{16}(?![A-Za-z0-9])"
_AWS_SECRET = r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"]([0-9a-zA-Z/+]{40})['\"]"
_JWT = r"eyJ[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.?[A-Za-z0-9_.+/=-]*"
_BASIC = r"Authorization\\?[\"']?\s*[:=]\s*\\?[\"']?Basic\s+([A-Za-z0-9+/]{8,}=*)"
_URL_CREDENTIALS = r"://[^\s:/?#@\"'<>]+:([^\s:/?#@\"'<>]+)@"
_Row = tuple[str, PiiKind, tuple[re.Pattern[str], ...], int, Check | None, tuple[str, ...]]
# name, kind, patterns, group (the secret's span), check, triggers (in the lower-cased text)
_REGEX_DETECTORS: tuple[_Row, ...] = (
    ("putty_private_key", PiiKind.PRIVATE_KEY, _compiled(_PUTTY), 0, None, ()),
    ("detect_secrets.GitHubToken", _K, tuple(GitHubTokenDetector.denylist), 0, None, ()),
    ("detect_secrets.OpenAI", _K, tuple(OpenAIDetector.denylist), 0, None, ("t3blbkfj",)),
    ("detect_secrets.Slack", _K, tuple(SlackDetector.denylist), 0, None, ("xox", "hooks.slack")),
    ("detect_secrets.Stripe", _K, tuple(StripeDetector.denylist), 0, None, ("k_live_",)),
    ("detect_secrets.GitLabToken", _K, tuple(GitLabTokenDetector.denylist), 0, None, ()),
    ("detect_secrets.PypiToken", _K, tuple(PypiTokenDetector.denylist), 0, None, ()),
    ("detect_secrets.SendGrid", _K, tuple(SendGridDetector.denylist), 0, None, ()),
    ("openai_key", _K, _compiled(_OPENAI), 0, _key, ()),
    ("anthropic_key", _K, _compiled(r"sk-ant-[A-Za-z0-9_-]{20,}"), 0, _WORD_START, ()),
    ("aws_access_key_id", _K, _compiled(_AWS_KEY_ID), 0, _after(""), ()),
    ("aws_secret_key", _K, _compiled(_AWS_SECRET, flags=re.IGNORECASE), 1, None, ("aws",)),
    ("github_pat", _K, _compiled(r"github_pat_[A-Za-z0-9_]{22,}"), 0, _WORD_START, ()),
    ("google_api_key", _K, _compiled(r"AIza[0-9A-Za-z_-]{35}(?![\w-])"), 0, _WORD_START, ()),
    ("huggingface_token", _K, _compiled(r"hf_[A-Za-z0-9]{30,40}(?![\w-])"), 0, _key, ()),
    ("jwt", _T, _compiled(_JWT), 0, _jwt, ()),
    ("bearer_token", _T, _compiled(r"earer\s+([A-Za-z0-9._~+/-]{16,}=*)"), 1, _bearer, ()),
    ("basic_auth_header", _T, _compiled(_BASIC), 1, None, ()),
    ("url_credentials", _P, _compiled(_URL_CREDENTIALS), 1, None, ()),
    ("home_path", _U, _compiled("/Users/" + _USER_DIR, "/home/" + _USER_DIR), 1, _home, ()),
    ("windows_home_path", _U, _compiled(r"Users\\{1,2}" + _USER_DIR), 1, _windows_home, ()),
)  # fmt: skip
_NANP_FINDER = _windowed(PiiKind.PHONE, r"-\d{4}(?!\d) \.\d{4}(?!\d)", _NANP, 24, _nanp)
_INTL_FINDER = _windowed(PiiKind.PHONE, r"\+[1-9]", _INTL, 1, _international)
_IPV4_FINDER = _windowed(PiiKind.IP_ADDRESS, r"\.\d{1,3}\.\d{1,3}\.\d", _IPV4, 4, _ipv4)
_IPV6_FINDER = _windowed(PiiKind.IP_ADDRESS, r":[0-9A-Fa-f]{0,4}:", _IPV6, 5, _ipv6)

DETECTORS: tuple[Detector, ...] = (
    Detector("private_key_block", (PiiKind.PRIVATE_KEY,), _find_private_keys),
    *(
        Detector(name, (kind,), _regex(kind, patterns, group, check), triggers)
        for name, kind, patterns, group, check, triggers in _REGEX_DETECTORS
    ),
    Detector("assignment", (_P, _K, _T), _find_assignments),
    Detector("email", (PiiKind.EMAIL,), _find_emails),
    Detector("phone_nanp", (PiiKind.PHONE,), _NANP_FINDER),
    Detector("phone_international", (PiiKind.PHONE,), _INTL_FINDER),
    Detector("ipv4", (PiiKind.IP_ADDRESS,), _IPV4_FINDER),
    Detector("ipv6", (PiiKind.IP_ADDRESS,), _IPV6_FINDER),
)


# --- the shapes of fake values ------------------------------------------------------------------
_NON_DIGITS = re.compile(r"\D")
_MASK = re.compile(r"[xX]{4}|\*{3}|\.{3}|\u2022{3}|#{4}")
_WORDS = re.compile(r"[a-z]+\d*(?:[ ._-][a-z]+\d*)*")  # something, my_secret_key, valid_base64
_HEX_ID = re.compile(r"[0-9a-fA-F]{4,12}(?:-[0-9a-fA-F]{4,12})+")  # a UUID or a piece of one
_PEM_ARMOR = re.compile(r"-----[A-Z0-9 ]+-----")
_BASE64_CHAR = re.compile(r"[A-Za-z0-9+/]")


def fictional_phone(value: str) -> bool:
    """North American numbers with the 555 exchange are reserved for fiction and examples."""
    digits = _NON_DIGITS.sub("", value)
    digits = digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    return len(digits) == 10 and digits[3:6] == "555"


def fake_secret(kind: PiiKind, value: str) -> bool:
    """A secret-shaped value that is a template, mask, id, sequence or dictionary words.

    Args:
        kind: The finding's kind (a private key is judged by its base64 body).
        value: The matched value.

    Returns:
        True for ``<your-key>``, ``{password}``, ``$TOKEN``, ``sk-xxxx...``, ``********``,
        UUIDs, ``1234567890``, ``A1b2C3d4E5f6``, ``my_secret_key`` and short private keys.
    """
    if kind is PiiKind.PRIVATE_KEY:
        body = _PEM_ARMOR.sub("", value)
        return _MASK.search(body) is not None or len(_BASE64_CHAR.findall(body)) < 64
    if value[0] in "<{[$%" or value.endswith((">", "}")) or _MASK.search(value):
        return True
    if len(set(value)) <= 3 or _WORDS.fullmatch(value) or _HEX_ID.fullmatch(value):
        return True
    return is_potential_uuid(value) or _sequence(value)


def _sequence(value: str) -> bool:
    """``1234567890``, ``abcdef``, or interleaved runs such as ``A1b2C3d4E5f6``."""
    if is_sequential_string(value):
        return True
    letters = "".join(c for c in value.lower() if c.isalpha())
    digits = "".join(c for c in value if c.isdigit())
    return (
        len(letters) >= 3
        and letters in "abcdefghijklmnopqrstuvwxyz"
        and digits in "01234567890123456789"
    )
