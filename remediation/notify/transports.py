"""How a queued message leaves: e-mail over SMTP, a WeCom (企业微信) application message to the person
(`wecom_app.py`), a WeCom group-bot webhook (the data office's alerts only), the portal inbox.

Transports are plain objects built from settings and passed to `remediation.outbox.deliver`; a test
passes its own. A failure to deliver raises `DeliveryError`, and the outbox retries the message later.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

import sqlalchemy as sa

from remediation import settings
from remediation.clock import now
from remediation.errors import DqgovError
from remediation.store.workflow_models import InboxMessage

TIMEOUT_SECONDS = 10.0


class DeliveryError(Exception):
    """The message could not be delivered this time; the text goes into the outbox's last_error.

    `permanent`: it never will be (an unknown recipient): the outbox marks it dead at once."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    id: int
    channel: str
    recipient: str  # staff id
    address: str | None
    subject: str
    body: str


class Transport(Protocol):
    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        """Deliver one message or raise DeliveryError. `conn` is the transaction that marks it sent."""

    def close(self) -> None: ...


class InboxTransport:
    """The portal inbox: a row in dq_inbox, written in the same transaction that marks the message sent."""

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        conn.execute(
            sa.insert(InboxMessage).values(
                staff_id=message.recipient,
                subject=message.subject,
                body=message.body,
                created_at=now(),
            )
        )

    def close(self) -> None:
        pass


class SmtpTransport:
    """E-mail through one SMTP connection, opened on the first message and reused for the rest."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        if not message.address:
            raise DeliveryError("no e-mail address")
        mail = EmailMessage()
        mail["Subject"] = message.subject  # non-ASCII: RFC 2047 encoded words
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="dqgov")
        mail.set_content(message.body, charset="utf-8", cte="base64")  # 7-bit safe for any relay
        try:
            refused = self._connect().send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused {message.address}: {exc.recipients}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc or type(exc).__name__}") from None
        if refused:
            raise DeliveryError(f"SMTP refused {message.address}: {refused}")

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


class WecomTransport:
    """A WeCom group bot: POST `{"msgtype": "markdown", ...}` to its webhook; `errcode` 0 means sent.

    A group chat is read by many: only the data office's run alerts go there (channel `wecom_bot`)."""

    def __init__(self, webhook_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        self.webhook_url, self.timeout = webhook_url, timeout

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        payload = {"msgtype": "markdown", "markdown": {"content": message.body}}
        request = urllib.request.Request(
            self.webhook_url,
            data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"WeCom webhook: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"WeCom webhook: {reason}") from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise DeliveryError("WeCom webhook: the answer is not JSON") from None
        if not isinstance(answer, dict) or answer.get("errcode") != 0:
            errcode = answer.get("errcode") if isinstance(answer, dict) else None
            errmsg = answer.get("errmsg") if isinstance(answer, dict) else None
            raise DeliveryError(f"WeCom webhook: errcode {errcode}: {errmsg}")

    def close(self) -> None:
        pass


def transports_from_settings(get: Callable[[str], str] = settings.get) -> dict[str, Transport]:
    """The configured transports by channel: the inbox always; e-mail with an SMTP host; `wecom` (application
    messages) with a corp id, agent id and secret; `wecom_bot` (the group bot, alerts only) with a webhook;
    `oa` (the OA system's unified to-dos) with an endpoint."""
    found: dict[str, Transport] = {"inbox": InboxTransport()}
    if get("DQGOV_SMTP_HOST"):
        found["email"] = SmtpTransport(
            host=get("DQGOV_SMTP_HOST"),
            port=settings.parse_as("DQGOV_SMTP_PORT", get("DQGOV_SMTP_PORT")),
            sender=get("DQGOV_SMTP_FROM"),
            user=get("DQGOV_SMTP_USER"),
            password=get("DQGOV_SMTP_PASSWORD"),
            starttls=settings.parse_as("DQGOV_SMTP_STARTTLS", get("DQGOV_SMTP_STARTTLS")),
        )
    if get("DQGOV_WECOM_CORP_ID") and get("DQGOV_WECOM_AGENT_ID") and get("DQGOV_WECOM_SECRET"):
        from remediation.notify.wecom_app import WecomAppTransport

        api = get("DQGOV_WECOM_API_URL")
        if not api.startswith(("http://", "https://")):
            raise DqgovError(
                "DQGOV_WECOM_API_URL is not an http(s) URL",
                code="setting_not_url",
                name="DQGOV_WECOM_API_URL",
            )
        agent = settings.parse_as("DQGOV_WECOM_AGENT_ID", get("DQGOV_WECOM_AGENT_ID"))
        found["wecom"] = WecomAppTransport(api, get("DQGOV_WECOM_CORP_ID"), agent, get("DQGOV_WECOM_SECRET"))
    if get("DQGOV_OA_TODO_URL"):
        from remediation.notify.oa_todo import OaTodoTransport, load_template

        oa = get("DQGOV_OA_TODO_URL")
        if not oa.startswith(("http://", "https://")):
            raise DqgovError(
                "DQGOV_OA_TODO_URL is not an http(s) URL", code="setting_not_url", name="DQGOV_OA_TODO_URL"
            )
        template = load_template(get("DQGOV_OA_TODO_TEMPLATE"))
        found["oa"] = OaTodoTransport(oa, get("DQGOV_OA_TODO_AUTH_HEADER"), template)
    if get("DQGOV_WECOM_WEBHOOK_URL"):
        url = get("DQGOV_WECOM_WEBHOOK_URL")
        if not url.startswith(("http://", "https://")):
            raise DqgovError(
                "DQGOV_WECOM_WEBHOOK_URL is not an http(s) URL",
                code="setting_not_url",
                name="DQGOV_WECOM_WEBHOOK_URL",
            )
        found["wecom_bot"] = WecomTransport(url)
    return found


def usable_channels(policy_channels: Sequence[str], transports: Mapping[str, Transport]) -> list[str]:
    """The policy's channels that have a transport: digests are queued only for these."""
    return [c for c in policy_channels if c in transports]
