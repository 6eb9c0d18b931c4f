"""WeCom (企业微信) application messages: a digest reaches its person alone, in their own WeCom.

The group bot posts to a chat that many people read, so it carries only the data office's run alerts;
a digest names records and people and goes to one person through the application-message API:

- `GET {api}/cgi-bin/gettoken?corpid=…&corpsecret=…` gives an `access_token` for `expires_in` seconds
  (7200). Tokens are cached per process and application, renewed a little before they expire, and at
  once when WeCom answers 42001 (expired) or 40014/40001 (invalid): the message is then sent again with
  the new token; WeCom did not take the first attempt, so nothing arrives twice.
- `POST {api}/cgi-bin/message/send?access_token=…` with `touser` = the staff member's `wecom_userid`, the
  application's `agentid` and a markdown body ending in a link to the portal.
- Rate limits (45009, 45033), "system busy" (-1) and network errors raise `DeliveryError`: the outbox
  retries with back-off. An unknown user (81013, or the user in `invaliduser`) is permanent: the message
  is marked dead at once, with the user named in its error, rather than retried for days.

`DQGOV_WECOM_API_URL` defaults to WeCom's public API; a bank's private deployment (私有化部署) has its own.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from remediation.notify.transports import TIMEOUT_SECONDS, DeliveryError, Outgoing

TOKEN_ERRORS = (42001, 40014, 40001)  # expired, invalid, invalid credential
UNKNOWN_USER = 81013  # "user & party & tag all invalid"
EARLY_SECONDS = 300  # renew this long before WeCom says the token expires


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic()


_tokens: dict[tuple[str, str, str, str], _Token] = {}
_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (a test that restarts its WeCom server calls this)."""
    with _lock:
        _tokens.clear()


class WecomAppTransport:
    """Application messages to one person each, authenticated with a cached access token."""

    def __init__(
        self, api_url: str, corp_id: str, agent_id: int, secret: str, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.corp_id, self.agent_id, self.secret, self.timeout = corp_id, agent_id, secret, timeout
        self._key = (self.api_url, corp_id, str(agent_id), secret)

    def _call(self, path: str, query: dict[str, str], body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.api_url}{path}?{urllib.parse.urlencode(query)}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"WeCom {path}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"WeCom {path}: {getattr(exc, 'reason', exc)}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise DeliveryError(f"WeCom {path}: the answer is not JSON") from None
        if not isinstance(answer, dict):
            raise DeliveryError(f"WeCom {path}: the answer is not a JSON object")
        return answer

    def token(self, renew: bool = False) -> str:
        with _lock:
            cached = _tokens.get(self._key)
            if cached is not None and not renew and cached.expires > time.monotonic():
                return cached.value
        answer = self._call("/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self.secret})
        if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
            raise DeliveryError(f"WeCom gettoken: errcode {answer.get('errcode')}: {answer.get('errmsg')}")
        lifetime = float(answer.get("expires_in") or 7200)
        token = _Token(str(answer["access_token"]), time.monotonic() + max(lifetime - EARLY_SECONDS, 1.0))
        with _lock:
            _tokens[self._key] = token
        return token.value

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        if not message.address:
            raise DeliveryError("no WeCom user id", permanent=True)
        body = {
            "touser": message.address,
            "msgtype": "markdown",
            "agentid": self.agent_id,
            "markdown": {"content": message.body},
        }
        answer = self._call("/cgi-bin/message/send", {"access_token": self.token()}, body)
        if answer.get("errcode") in TOKEN_ERRORS:  # not taken: renew the token and send it once more
            answer = self._call("/cgi-bin/message/send", {"access_token": self.token(renew=True)}, body)
        errcode, errmsg = answer.get("errcode"), answer.get("errmsg")
        invalid = str(answer.get("invaliduser") or "")
        if errcode == UNKNOWN_USER or message.address in invalid.split("|"):
            raise DeliveryError(
                f"WeCom message/send: unknown user {message.address}: errcode {errcode}: {errmsg}",
                permanent=True,
            )
        if errcode != 0:
            raise DeliveryError(f"WeCom message/send: errcode {errcode}: {errmsg}")

    def close(self) -> None:
        pass
