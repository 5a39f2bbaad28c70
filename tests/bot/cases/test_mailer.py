"""The optional staff e-mail, against a real local SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import inspect
import logging
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.cases.mailer import StaffMailer
from tests.helpers import free_port

SECRET = "s3cr#t:p@ss/word"
FAKE_PATIENT_TEXT = "my secret symptom"


class Collector:
    """An aiosmtpd handler that keeps every envelope it is sent."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's naming
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class Credentials:
    """An aiosmtpd authenticator that accepts one user and remembers what it saw."""

    def __init__(self, user: str, password: str):
        self.expected = LoginPassword(user.encode(), password.encode())
        self.seen = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.seen.append(auth_data)
        return AuthResult(success=auth_data == self.expected, handled=False)


@pytest.fixture
def smtp_server(request):
    """A loopback SMTP server; yields (port, collector, authenticator)."""
    collector = Collector()
    credentials = Credentials("desk bot", SECRET)
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=credentials,
        auth_require_tls=False,  # loopback only; smtplib may LOGIN without TLS here
    )
    controller.start()
    request.addfinalizer(controller.stop)
    return controller.port, collector, credentials


def _mailer(port: int, **changes) -> StaffMailer:
    url = f"smtp://127.0.0.1:{port}/?from=bot@clinic.example&to=desk@clinic.example"
    mailer = StaffMailer.from_url(url, "https://clinic.example/")
    return StaffMailer(**{**mailer.__dict__, "timeout_s": 3.0, **changes})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.clinic.example/?from=bot@clinic.example&to=desk@clinic.example",
            ("mail.clinic.example", 25, "bot@clinic.example", "desk@clinic.example", None, None,
             False),
        ),
        (
            "smtp://user:pass@mail.clinic.example:2525/?from=bot@clinic.example&to=desk@c.example",
            ("mail.clinic.example", 2525, "bot@clinic.example", "desk@c.example", "user", "pass",
             False),
        ),
        (
            "smtp+starttls://desk%20bot:s3cr%23t%3Ap%40ss%2Fword@Mail.Example/?to=d@x.example"
            "&from=bot%2Balerts@x.example",
            ("mail.example", 587, "bot+alerts@x.example", "d@x.example", "desk bot", SECRET, True),
        ),
        (
            "smtp+starttls://apikey@smtp.example:2587?from=a@x.example&to=b@x.example",
            ("smtp.example", 2587, "a@x.example", "b@x.example", "apikey", None, True),
        ),
        (
            "  smtp://[::1]:25/?from=bot+alerts@x.example&to=b@x.example  ",
            ("::1", 25, "bot+alerts@x.example", "b@x.example", None, None, False),
        ),
    ],
)  # fmt: skip
def test_from_url_parses(url, expected):
    mailer = StaffMailer.from_url(url, "https://clinic.example")
    got = (mailer.host, mailer.port, mailer.sender, mailer.recipient, mailer.username,
           mailer.password, mailer.starttls)  # fmt: skip
    assert got == expected
    assert mailer.console_base_url == "https://clinic.example"


CREDS = "user:s3cr%23t%3Ap%40ss%2Fword"  # the password SECRET, percent-encoded
QUERY = "?from=a@x.example&to=b@x.example"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "must start with smtp://"),
        ("mail.clinic.example", "must start with smtp://"),
        (f"{CREDS}@mail.example/{QUERY}", "must start with smtp://"),
        (f"http://{CREDS}@mail.example/{QUERY}", "must start with smtp://"),
        (f"smtps://{CREDS}@mail.example/{QUERY}", "must start with smtp://"),
        (f"smtp://{CREDS}@/{QUERY}", "no mail server host"),
        (f"smtp:///{QUERY}", "no mail server host"),
        (f"smtp://{CREDS}@mail.example:99999/{QUERY}", "not a valid smtp:// URL"),
        (f"smtp://{CREDS}@mail.example:port/{QUERY}", "not a valid smtp:// URL"),
        (f"smtp://{CREDS}@mail.example/?to=b@x.example", "exactly one ?from="),
        (f"smtp://{CREDS}@mail.example/?from=a@x.example", "exactly one ?to="),
        (f"smtp://{CREDS}@mail.example/?from=&to=b@x.example", "exactly one ?from="),
        (f"smtp://{CREDS}@mail.example/{QUERY}&to=c@x.example", "exactly one ?to="),
        (f"smtp://{CREDS}@mail.example/?from=nobody&to=b@x.example", "invalid from="),
        (f"smtp://{CREDS}@mail.example/?from=a@x.example%0D%0ABcc:e@x.example&to=b@x.example",
         "invalid from="),
        (f"smtp://user:{SECRET}@mail.example/{QUERY}", "CLINIC_SMTP_URL"),  # not encoded
    ],
)  # fmt: skip
def test_from_url_refuses_clearly_without_the_password(url, fragment):
    with pytest.raises(ValueError) as error:
        StaffMailer.from_url(url)
    message = str(error.value)
    assert "CLINIC_SMTP_URL" in message and fragment in message
    for part in ("s3cr", "p@ss", "ss/word", "%23", "%40"):
        assert part not in message
    # No chained urllib error either: a traceback would print it, URL fragments and all.
    assert error.value.__cause__ is None
    assert error.value.__context__ is None or error.value.__suppress_context__


def test_password_is_not_in_repr():
    url = "smtp://desk:s3cr%23t@mail.example/?from=a@x.example&to=b@x.example"
    mailer = StaffMailer.from_url(url)
    assert mailer.password == "s3cr#t"
    assert "s3cr" not in repr(mailer) and "s3cr" not in str(mailer)
    assert "desk" in repr(mailer)


@pytest.mark.parametrize(
    ("event", "subject"),
    [
        ("new_contact", "[Clinic assistant] Escalation 12: the patient left contact details"),
        ("patient_message", "[Clinic assistant] Escalation 12: the patient wrote again"),
    ],
)
def test_message_says_where_to_look(event, subject):
    mail = _mailer(25).message(event, 12)
    body = mail.get_content()
    assert mail["Subject"] == subject
    assert (mail["From"], mail["To"]) == ("bot@clinic.example", "desk@clinic.example")
    assert "https://clinic.example/staff/escalations/12" in body
    assert "console after you log in" in body


def test_message_without_console_url_names_the_escalation():
    body = _mailer(25, console_base_url="").message("new_contact", 7).get_content()
    assert "escalation 7 in the staff console" in body
    assert "http" not in body


def test_message_refuses_unknown_events_and_non_ids():
    mailer = _mailer(25)
    with pytest.raises(ValueError):
        mailer.message("urgent", 1)
    for not_an_id in ("12 Jane Doe 212-555-0100", 1.5, True):
        with pytest.raises(TypeError):
            mailer.message("new_contact", not_an_id)


@pytest.mark.parametrize("method", ["message", "send", "send_in_background"])
def test_the_api_has_no_room_for_patient_details(method):
    parameters = inspect.signature(getattr(StaffMailer, method)).parameters
    assert list(parameters) == ["self", "event", "escalation_id"]


def test_send_delivers_to_a_real_smtp_server(smtp_server):
    port, collector, credentials = smtp_server
    assert _mailer(port).send("new_contact", 42) is True
    (envelope,) = collector.envelopes
    assert envelope.mail_from == "bot@clinic.example"
    assert envelope.rcpt_tos == ["desk@clinic.example"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "[Clinic assistant] Escalation 42: the patient left contact details"
    assert mail["From"] == "bot@clinic.example" and mail["To"] == "desk@clinic.example"
    body = mail.get_content()
    assert "https://clinic.example/staff/escalations/42" in body
    assert FAKE_PATIENT_TEXT not in envelope.content.decode()
    assert credentials.seen == []  # no username configured: no login attempted


def test_send_logs_in_with_the_decoded_credentials(smtp_server):
    port, collector, credentials = smtp_server
    mailer = _mailer(port, username="desk bot", password=SECRET)
    assert mailer.send("patient_message", 5) is True
    assert credentials.seen == [credentials.expected]
    assert len(collector.envelopes) == 1


def test_wrong_password_returns_false_and_is_not_logged(smtp_server, caplog):
    port, collector, _ = smtp_server
    mailer = _mailer(port, username="desk bot", password="wrong-" + SECRET)
    with caplog.at_level(logging.WARNING, logger="bot.cases.mailer"):
        assert mailer.send("new_contact", 5) is False
    assert collector.envelopes == []
    assert "escalation 5" in caplog.text and "SMTPAuthenticationError" in caplog.text
    assert "s3cr" not in caplog.text


def test_starttls_against_a_server_without_it_returns_false(smtp_server):
    port, collector, _ = smtp_server
    assert _mailer(port, starttls=True).send("new_contact", 5) is False
    assert collector.envelopes == []


def test_send_to_a_closed_port_returns_false(caplog):
    mailer = _mailer(free_port(), username="desk", password=SECRET)
    with caplog.at_level(logging.WARNING, logger="bot.cases.mailer"):
        assert mailer.send("new_contact", 9) is False
    assert "escalation 9" in caplog.text
    assert "s3cr" not in caplog.text


def test_send_in_background_delivers(smtp_server):
    port, collector, _ = smtp_server
    thread = _mailer(port).send_in_background("patient_message", 77)
    assert thread.daemon
    thread.join(timeout=5)
    assert not thread.is_alive()
    (envelope,) = collector.envelopes
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert mail["Subject"] == "[Clinic assistant] Escalation 77: the patient wrote again"
