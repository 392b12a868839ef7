"""A local OpenAI-compatible server on 127.0.0.1 for the LLM enrichment tests: ``POST /v1/chat/completions``.

Each request pops the next scripted step; with the script empty it answers like a well-behaved model: one entry per
tool listed in the user message, sentiment from a few keywords. Steps:

* ``{"content": "..."}`` — answer with this assistant content (malformed JSON, wrong tools, ...);
* ``{"status": 429, "headers": {...}}`` — an error status (429 with Retry-After, 500, 503, ...);
* ``{"sleep": 2.0}`` — stall that long before answering normally (the client times out first).

``calls`` counts every request received; ``requests`` keeps their JSON bodies.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def default_answer(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    payload = json.loads(user)
    text = payload["text"].lower()
    score = 0.8 if any(w in text for w in ("love", "great", "amazing")) else -0.7 if "hate" in text else 0.0
    kind = "question" if text.rstrip().endswith("?") else "first_hand" if " we use " in f" {text} " else "other"
    return {"tools": [{"tool_id": t["id"], "summary": f"The text talks about {t['name']}.", "sentiment_score": score,
                       "usage_kind": kind} for t in payload["tools"]]}  # fmt: skip


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.calls = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.calls += 1
                    fake.requests.append(body)
                    step = fake.script.pop(0) if fake.script else {}
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                if "status" in step:
                    self._send(step["status"], {"error": {"message": "scripted error", "type": "rate_limit"}},
                               step.get("headers", {}))  # fmt: skip
                    return
                if "sleep" in step:
                    time.sleep(step["sleep"])
                content = step.get("content")
                if content is None:
                    content = json.dumps(default_answer(body))
                self._send(200, {
                    "id": f"chatcmpl-{fake.calls}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content, "refusal": None}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
                })  # fmt: skip

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        return Handler


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
