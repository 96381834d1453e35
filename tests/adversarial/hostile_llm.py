"""A hostile model behind a real OpenAI-compatible endpoint on 127.0.0.1: whatever it is asked
(evidence, SQL, a fix), it answers with the SQL it was scripted to push.

This plays the attacker of the threat model, so it is the right tool here, not a mock: the service
talks to it through its real OpenAI client, exactly as it would to a compromised endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HostileLLM:
    """``reply`` is what every chat completion answers, unless ``script`` holds replies for the first
    calls; ``calls`` counts them and ``requests`` keeps their bodies."""

    def __init__(self) -> None:
        self.reply = "SELECT 1"
        self.script: list[str] = []
        self.calls = 0
        self.requests: list[dict[str, Any]] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:  # quiet: the test reports what matters
                pass

            def _send(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send({"object": "list", "data": [{"id": "hostile", "object": "model", "owned_by": "attacker"}]})

            def do_POST(self) -> None:
                hostile.requests.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                hostile.calls += 1
                sql = hostile.script[hostile.calls - 1] if hostile.calls <= len(hostile.script) else hostile.reply
                content = f"Sure.\nFinal SQL:\n```sql\n{sql}\n```"
                self._send(
                    {
                        "id": f"chatcmpl-{hostile.calls}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": "hostile",
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> HostileLLM:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
