"""Optional e-mail to the clinic's staff about an escalation (off unless configured).

The mail carries no patient text, name or number: only which escalation to open in the console,
after logging in. The methods accept nothing but an event name and an escalation id, so patient
details cannot leak into a mailbox by accident. Sent in a background thread so the patient's
conversation is never delayed by a slow mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

SETTING = "CLINIC_SMTP_URL"
SUBJECT_PREFIX = "[Clinic assistant]"
_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587}

# event -> (subject phrase, first body sentence); worded so no patient detail is needed.
EVENTS: dict[str, tuple[str, str]] = {
    "new_contact": (
        "the patient left contact details",
        "A patient left contact details so that someone from the clinic can get back to them.",
    ),
    "patient_message": (
        "the patient wrote again",
        "A patient wrote again in a conversation that a person from the clinic is replying to.",
    ),
}


@dataclass(frozen=True)
class StaffMailer:
    """Sends short "where to look" e-mails through one SMTP server to one staff address."""

    host: str
    port: int
    sender: str
    recipient: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    console_base_url: str = ""
    timeout_s: float = 10.0

    @classmethod
    def from_url(cls, url: str, console_base_url: str = "") -> StaffMailer:
        """Reads ``smtp[+starttls]://[user[:password]@]host[:port]/?from=...&to=...``.

        Raises ValueError naming the setting; the message never repeats the URL, which may hold
        the password.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ValueError(f"{SETTING} is not a valid smtp:// URL") from None
        if parts.scheme not in _DEFAULT_PORTS:
            # The scheme is not echoed: a URL missing its "smtp://" may start with credentials.
            raise ValueError(f"{SETTING} must start with smtp:// or smtp+starttls://")
        if not parts.hostname:
            raise ValueError(f"{SETTING} has no mail server host")
        query = _query(parts.query)
        sender = _single_address(query, "from")
        recipient = _single_address(query, "to")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[parts.scheme],
            sender=sender,
            recipient=recipient,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=parts.scheme == "smtp+starttls",
            console_base_url=console_base_url,
        )

    def console_link(self, escalation_id: int) -> str:
        base = self.console_base_url.rstrip("/")
        if base:
            return f"{base}/staff/escalations/{escalation_id}"
        return f"escalation {escalation_id} in the staff console"

    def message(self, event: str, escalation_id: int) -> EmailMessage:
        """The e-mail for ``event`` ("new_contact" or "patient_message") about one escalation."""
        if event not in EVENTS:
            raise ValueError(f"unknown staff e-mail event {event!r}")
        # bool is an int too, and anything else could smuggle text into the mail.
        if not isinstance(escalation_id, int) or isinstance(escalation_id, bool):
            raise TypeError("escalation_id must be an int")
        subject, sentence = EVENTS[event]
        mail = EmailMessage()
        mail["Subject"] = f"{SUBJECT_PREFIX} Escalation {escalation_id}: {subject}"
        mail["From"] = self.sender
        mail["To"] = self.recipient
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        mail.set_content(
            f"{sentence}\n\n"
            f"Open: {self.console_link(escalation_id)}\n\n"
            "The details are in the staff console after you log in. For the patient's privacy "
            "this e-mail does not contain them.\n"
        )
        return mail

    def send(self, event: str, escalation_id: int) -> bool:
        """Delivers the e-mail now; True once the server accepted it, False (logged) if not."""
        mail = self.message(event, escalation_id)  # a bad event is a bug: let it raise
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            # The error text comes from the socket or server, never from our credentials.
            logger.warning(
                "staff e-mail about escalation %s via %s:%s failed: %s: %s",
                escalation_id,
                self.host,
                self.port,
                type(error).__name__,
                error,
            )
            return False
        return True

    def send_in_background(self, event: str, escalation_id: int) -> threading.Thread:
        thread = threading.Thread(
            target=self.send, args=(event, escalation_id), name="staff-mail", daemon=True
        )
        thread.start()
        return thread


def _query(query: str) -> dict[str, list[str]]:
    # Not parse_qs: it would read the "+" of "bot+alerts@clinic.example" as a space.
    values: dict[str, list[str]] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        values.setdefault(unquote(key), []).append(unquote(value))
    return values


def _single_address(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key, [])
    if len(values) != 1 or not values[0].strip():
        raise ValueError(f"{SETTING} needs exactly one ?{key}=address")
    address = values[0].strip()
    # No line breaks: they would let the setting inject extra mail headers.
    if "@" not in address or any(char in address for char in "\r\n"):
        raise ValueError(f"{SETTING} has an invalid {key}= address")
    return address
