"""A small client for OpenAI-compatible `POST {base_url}/chat/completions`, on the stdlib.

One `complete` call is one attempt: it retries 429, 5xx and dropped connections with
exponential backoff (honouring `retry-after-ms` and `Retry-After`), and either returns a
`Completion` or raises `AttemptError` with a named `AttemptReason`. A socket timeout ends the
attempt at once (the caller records it and may try again later). 401, 403 and 404 raise
`EndpointError`: a wrong key, URL or model fails every request, so the lane stops.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import orjson

RETRY_STATUSES = frozenset({408, 409, 429})
FATAL_STATUSES = frozenset({401, 403, 404})
ERROR_BODY_CHARS = 500


class AttemptReason(StrEnum):
    """Why an attempt produced no row."""

    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    HTTP_ERROR = "http_error"
    MALFORMED_JSON = "malformed_json"
    NO_CHOICES = "no_choices"
    EMPTY_CONTENT = "empty_content"
    MISSING_MODEL = "missing_model"
    MISSING_SECTIONS = "missing_sections"


class AttemptError(Exception):
    """An attempt that failed: the reason, a message, and what is known of the exchange."""

    def __init__(
        self,
        reason: AttemptReason,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.status = status
        self.body = body
        self.http_retries = 0
        self.client_request_id = ""


class EndpointError(RuntimeError):
    """The endpoint refuses every request (bad key, URL or model): generation stops."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before retrying a request."""

    max_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    jitter: bool = True

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds before retry number `retry` (0-based), Retry-After taking precedence."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff_s)
        base = min(self.backoff_s * 2**retry, self.max_backoff_s)
        return base * (0.5 + random.random() / 2) if self.jitter else base


@dataclass(frozen=True)
class Completion:
    """A usable answer and what the endpoint said about it."""

    content: str
    reported_model: str
    response_id: str | None
    request_id: str | None
    client_request_id: str
    finish_reason: str | None
    usage: dict[str, Any]
    latency_ms: int
    http_retries: int


class RateLimiter:
    """Spaces request starts at least `1 / requests_per_second` apart, across threads."""

    def __init__(self, requests_per_second: float | None) -> None:
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until the next request may start."""
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def parse_retry_after(
    headers: Mapping[str, str] | Message, now: float | None = None
) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


@dataclass
class ChatClient:
    """Chat completions against one endpoint; thread-safe (no state but the rate limiter)."""

    base_url: str
    api_key: str | None = None
    timeout_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))

    @property
    def url(self) -> str:
        """The chat completions URL."""
        return self.base_url.rstrip("/") + "/chat/completions"

    def complete(self, model: str, prompt: str, params: Mapping[str, Any]) -> Completion:
        """Send `prompt` as the one user message; return the answer or raise `AttemptError`."""
        body = orjson.dumps(
            {**params, "model": model, "messages": [{"role": "user", "content": prompt}]}
        )
        client_request_id = uuid.uuid4().hex
        retries = 0
        while True:
            try:
                completion = self._send(body, client_request_id)
            except _Retryable as error:
                if retries >= self.retry.max_retries:
                    raise _tagged(error.error, retries, client_request_id) from None
                time.sleep(self.retry.delay(retries, error.retry_after))
                retries += 1
            except AttemptError as error:
                raise _tagged(error, retries, client_request_id) from None
            else:
                return _with_retries(completion, retries)

    def _request(self, body: bytes, client_request_id: str) -> urllib.request.Request:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Client-Request-Id": client_request_id,
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def _send(self, body: bytes, client_request_id: str) -> Completion:
        self.limiter.acquire()
        started = time.monotonic()
        try:
            with urllib.request.urlopen(
                self._request(body, client_request_id), timeout=self.timeout_s
            ) as response:
                raw = response.read()
                headers = response.headers
        except urllib.error.HTTPError as error:
            raise _http_failure(error) from None
        except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
            raise _network_failure(error) from None
        latency_ms = round((time.monotonic() - started) * 1000)
        return parse_completion(raw, headers.get("x-request-id"), client_request_id, latency_ms)


class _Retryable(Exception):
    def __init__(self, error: AttemptError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _tagged(error: AttemptError, retries: int, client_request_id: str) -> AttemptError:
    error.http_retries = retries
    error.client_request_id = client_request_id
    return error


def _with_retries(completion: Completion, retries: int) -> Completion:
    return Completion(**{**completion.__dict__, "http_retries": retries})


def _http_failure(error: urllib.error.HTTPError) -> Exception:
    try:
        text = error.read().decode("utf-8", "replace")[:ERROR_BODY_CHARS]
    except OSError:
        text = ""
    failure = AttemptError(
        AttemptReason.HTTP_ERROR,
        f"HTTP {error.code} from {error.url}",
        status=error.code,
        body=text,
    )
    if error.code in FATAL_STATUSES:
        return EndpointError(f"HTTP {error.code} from {error.url}: {text}")
    if error.code in RETRY_STATUSES or error.code >= 500:
        return _Retryable(failure, parse_retry_after(error.headers))
    return failure


def _network_failure(error: BaseException) -> Exception:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return AttemptError(AttemptReason.TIMEOUT, f"no answer within the timeout ({reason})")
    failure = AttemptError(AttemptReason.CONNECTION_ERROR, str(reason))
    return _Retryable(failure, None)


def _choice_content(document: dict[str, Any]) -> tuple[str, str | None]:
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise AttemptError(AttemptReason.NO_CHOICES, "the response has no choices")
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise AttemptError(AttemptReason.EMPTY_CONTENT, "choices[0].message.content is empty")
    finish = choices[0].get("finish_reason")
    return content, finish if isinstance(finish, str) else None


def parse_completion(
    raw: bytes, request_id: str | None, client_request_id: str, latency_ms: int
) -> Completion:
    """A `Completion` from a response body, or `AttemptError` naming what is wrong with it."""
    excerpt = raw[:ERROR_BODY_CHARS].decode("utf-8", "replace")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise AttemptError(AttemptReason.MALFORMED_JSON, str(error), body=excerpt) from None
    if not isinstance(document, dict):
        raise AttemptError(AttemptReason.MALFORMED_JSON, "not a JSON object", body=excerpt)
    content, finish_reason = _choice_content(document)
    model = document.get("model")
    if not isinstance(model, str) or not model:
        raise AttemptError(AttemptReason.MISSING_MODEL, "the response does not name its model")
    usage = document.get("usage")
    response_id = document.get("id")
    return Completion(
        content=content,
        reported_model=model,
        response_id=response_id if isinstance(response_id, str) else None,
        request_id=request_id or (response_id if isinstance(response_id, str) else None),
        client_request_id=client_request_id,
        finish_reason=finish_reason,
        usage=usage if isinstance(usage, dict) else {},
        latency_ms=latency_ms,
        http_retries=0,
    )
