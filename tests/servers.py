"""Real servers for notification tests: an SMTP server (aiosmtpd), a WeCom-style group-bot webhook and a
WeCom application-message API (http.server)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import urllib.parse
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """An SMTP server on a fixed free port that keeps every message; it can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.recipients: list[str] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def env(self) -> dict[str, str]:
        return {"DQGOV_SMTP_HOST": "127.0.0.1", "DQGOV_SMTP_PORT": str(self.port)}


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that reads a JSON body and answers JSON."""

    def json_body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8"))

    def answer(self, answer: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpPeer:
    """A threaded HTTP server on a free loopback port, serving `handler` between start() and stop()."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class WecomSink(HttpPeer):
    """Receives WeCom group-bot posts and answers like WeCom: `{"errcode": 0, "errmsg": "ok"}`."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.errcode = 0
        sink = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                sink.posts.append(self.json_body())
                self.answer(
                    {
                        "errcode": sink.errcode,
                        "errmsg": "ok" if sink.errcode == 0 else "api freq out of limit",
                    }
                )

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key=test"

    def env(self) -> dict[str, str]:
        return {"DQGOV_WECOM_WEBHOOK_URL": self.url}


class WecomApi(HttpPeer):
    """A local server speaking WeCom's application-message API: `gettoken` and `message/send`.

    Like WeCom it answers 42001 to an expired token, 45009 when rate-limited, 81013 for an unknown user.
    `expire_after`: the current token expires after that many accepted messages (a token that runs out
    mid-run); `limited`: the next that many sends are refused as rate-limited; `users`: who exists.
    """

    CORP, SECRET = "ww-test-corp", "test-secret"

    def __init__(self, users: set[str] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []  # accepted messages
        self.tokens_issued = 0
        self.expire_after: int | None = None
        self.limited = 0
        self.users = users
        self._token = ""
        api = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path != "/cgi-bin/gettoken":
                    return self.answer({"errcode": 404, "errmsg": "not found"})
                if (query.get("corpid"), query.get("corpsecret")) != (api.CORP, api.SECRET):
                    return self.answer({"errcode": 40001, "errmsg": "invalid credential"})
                api.tokens_issued += 1
                api._token = f"token-{api.tokens_issued}"
                return self.answer(
                    {"errcode": 0, "errmsg": "ok", "access_token": api._token, "expires_in": 7200}
                )

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                body = self.json_body()
                if url.path != "/cgi-bin/message/send":
                    return self.answer({"errcode": 404, "errmsg": "not found"})
                if query.get("access_token") != api._token or not api._token:
                    return self.answer({"errcode": 42001, "errmsg": "access_token expired"})
                if api.limited > 0:
                    api.limited -= 1
                    return self.answer({"errcode": 45009, "errmsg": "api freq out of limit"})
                if api.users is not None and body.get("touser") not in api.users:
                    return self.answer(
                        {
                            "errcode": 81013,
                            "errmsg": "user & party & tag all invalid",
                            "invaliduser": body.get("touser"),
                        }
                    )
                api.sent.append(body)
                if api.expire_after is not None and len(api.sent) >= api.expire_after:
                    api.expire_after, api._token = None, ""  # the token runs out now
                return self.answer({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return self.base_url

    def env(self) -> dict[str, str]:
        return {
            "DQGOV_WECOM_API_URL": self.url,
            "DQGOV_WECOM_CORP_ID": self.CORP,
            "DQGOV_WECOM_AGENT_ID": "1000002",
            "DQGOV_WECOM_SECRET": self.SECRET,
        }


class OaServer(HttpPeer):
    """A bank's OA unified to-do endpoint: keeps the latest body per `externalId`, as an OA would."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.todos: dict[str, dict[str, Any]] = {}
        self.status = 200
        server = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = self.json_body()
                if server.status == 200:
                    server.calls.append(body)
                    server.headers.append(dict(self.headers.items()))
                    server.todos[str(body.get("externalId") or body.get("id"))] = body
                self.answer({"code": 0}, server.status)

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/unified-todo"
