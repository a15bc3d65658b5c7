"""Sending sign-in mail: by SMTP in production, into an outbox folder in development and tests.

Which one is chosen by the settings (:func:`mail_sender`): ``smtp_host`` set means SMTP (STARTTLS unless
the port is 465, which is TLS from the start; login when ``smtp_user`` is set); else ``mail_outbox``
names a folder where each message is written as an ``.eml`` file, which a developer opens and a test
reads. With neither, sign-in by e-mail is switched off (the page says so) rather than failing late.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import tempfile
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

from dfl_graph.config import Settings


class MailError(Exception):
    """The message could not be handed over (the message says why, without any secret)."""


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.host, self.port, self.user, self._password = host, port, user, password

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            if self.port == 465:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=20, context=context)
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=20)
            with client:
                if self.port != 465:
                    client.starttls(context=context)
                if self.user:
                    client.login(self.user, self._password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"could not send mail through {self.host}:{self.port}: {type(error).__name__}") from None


class OutboxSender:
    """Writes each message to ``{folder}/{time}-{id}.eml`` (atomically: a reader never sees half a file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".mail-")
        with os.fdopen(fd, "wb") as out:
            out.write(bytes(message))
        os.replace(tmp, self.folder / f"{time.time_ns():020d}-{Path(tmp).name.removeprefix('.mail-')}.eml")


def mail_sender(settings: Settings) -> MailSender | None:
    if settings.smtp_host:
        return SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password)
    if settings.mail_outbox:
        return OutboxSender(Path(settings.mail_outbox))
    return None


def message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="data-for-london")
    mail.set_content(text)
    return mail
