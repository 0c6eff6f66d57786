"""A real HTTP server on 127.0.0.1 that speaks OpenAI chat completions, with scripted replies.

Tests drive the real client code path against it: sockets, status codes, headers, timeouts.
Each request is routed by the first script key found in its user message (a task id works) and
gets that key's next scripted `Reply`; with no script left it gets a valid closure answer.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

REPORTED_MODEL = "stub-teacher-2025-01-01"


def closure_answer(prompt: str) -> str:
    """A valid closure-format answer that differs per prompt."""
    tag = hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:8]
    return (
        f"## Plan\nReturn the tag {tag}.\n\n"
        f"## Code\n```python\ndef answer():\n    return {tag!r}\n```\n\n"
        f"## Checks\n```python\nassert answer() == {tag!r}\n```\n\n"
        "## Result\nThe function returns the tag.\n"
    )


@dataclass(frozen=True)
class Reply:
    """One scripted reply: a status, headers and body, optionally after a delay."""

    status: int = 200
    body: bytes | None = None  # None: a valid completion for the prompt
    content: str | None = None  # the completion's content (None: `closure_answer`)
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def ok(content: str | None = None) -> Reply:
    """A normal answer (default: a valid closure)."""
    return Reply(content=content)


def status(code: int, headers: Mapping[str, str] | None = None) -> Reply:
    """An HTTP error with an OpenAI-style error body."""
    body = orjson.dumps({"error": {"message": f"scripted {code}", "type": "stub"}})
    return Reply(status=code, body=body, headers=dict(headers or {}))


def slow(seconds: float) -> Reply:
    """A normal answer sent only after `seconds` (past the client's timeout)."""
    return Reply(delay_s=seconds)


def raw(body: bytes) -> Reply:
    """A 200 whose body is exactly `body` (malformed JSON, no choices...)."""
    return Reply(body=body)


@dataclass(frozen=True)
class Seen:
    """One request the stub received."""

    at: float
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """The user message."""
        return str(self.body["messages"][0]["content"])


class OpenAIStub:
    """The server, its script, and the requests it saw."""

    def __init__(
        self, script: Mapping[str, list[Reply]] | None = None, delay_s: float = 0.0
    ) -> None:
        self.script = {key: deque(replies) for key, replies in (script or {}).items()}
        self.delay_s = delay_s
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>/v1`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def reply_for(self, seen: Seen) -> tuple[int, Reply]:
        """Record the request; its number (1-based) and its reply."""
        with self._lock:
            self.seen.append(seen)
            number = len(self.seen)
            for key, replies in self.script.items():
                if key in seen.prompt and replies:
                    return number, replies.popleft()
        return number, Reply(delay_s=self.delay_s)

    def requests_for(self, marker: str) -> list[Seen]:
        """Requests whose prompt contains `marker`."""
        return [s for s in self.seen if marker in s.prompt]

    def enter(self) -> None:
        """Count a request in progress."""
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        """Count a request finished."""
        with self._lock:
            self.in_flight -= 1

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def completion_body(prompt: str, content: str, number: int) -> bytes:
    """A chat.completion response body."""
    return orjson.dumps(
        {
            "id": f"chatcmpl-stub-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": REPORTED_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": len(prompt) // 4,
                "completion_tokens": len(content) // 4,
                "total_tokens": (len(prompt) + len(content)) // 4,
            },
        }
    )


def _handler(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep test output quiet."""

        def do_POST(self) -> None:
            """Answer one chat completions request as scripted."""
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen = Seen(time.monotonic(), self.path, dict(self.headers), orjson.loads(body))
            stub.enter()
            try:
                number, reply = stub.reply_for(seen)
                self._answer(seen, reply, number)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing to answer
            finally:
                stub.leave()

        def _answer(self, seen: Seen, reply: Reply, number: int) -> None:
            if self.path != "/v1/chat/completions":
                reply = status(404)
            time.sleep(reply.delay_s)
            payload = reply.body
            if payload is None:
                content = (
                    reply.content if reply.content is not None else closure_answer(seen.prompt)
                )
                payload = completion_body(seen.prompt, content, number)
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-request-id", f"req_stub_{number}")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def running(stub: OpenAIStub) -> Iterator[OpenAIStub]:
    """Run `stub` for the duration of a `with` block."""
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
