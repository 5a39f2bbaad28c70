"""Security properties in one place: Rasa's HTTP API closed without the token, no cross-origin
access to the servers, no committed secrets, generated secrets kept private, and no patient
text in the web app's logs.

Tests marked slow use the session's real Rasa and action servers (``servers`` in conftest.py);
the others run on the Flask test client, the git checkout and a temporary folder.
"""

from __future__ import annotations

import http.client
import logging
import re
import stat
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings, load_settings, rasa_token, secret
from bot.ops.servers import http_json
from bot.web import create_app
from bot.web.rasa_client import RasaClient
from tests.helpers import FakeRasa, free_port

EVIL = "https://evil.example"

# --- Rasa's HTTP API needs the token -------------------------------------------------------
# Every endpoint family of Rasa 3.6's HTTP API (rasa/server.py) except the public "/" and
# "/version" and the channel webhooks. Destructive ones last: should the token check ever
# break, the damage to the shared servers comes after the other assertions.
PROTECTED_ENDPOINTS = [
    ("GET", "/status", None),
    ("GET", "/domain", None),
    ("POST", "/model/parse", {"text": "hello"}),
    ("POST", "/model/predict", {"event": "user", "text": "hello"}),
    ("POST", "/model/test/intents", {}),
    ("POST", "/model/test/stories", {}),
    ("GET", "/conversations/sec-test/tracker", None),
    ("GET", "/conversations/sec-test/story", None),
    ("POST", "/conversations/sec-test/messages", {"text": "hello", "sender": "user"}),
    ("POST", "/conversations/sec-test/predict", None),
    ("POST", "/conversations/sec-test/execute", {"name": "action_listen"}),
    ("POST", "/conversations/sec-test/trigger_intent", {"name": "greet"}),
    ("POST", "/conversations/sec-test/tracker/events", {"event": "slot", "name": "x"}),
    ("PUT", "/conversations/sec-test/tracker/events", []),
    ("POST", "/model/train", {}),
    ("PUT", "/model", {"model_file": "/tmp/not-a-model.tar.gz"}),
    ("DELETE", "/model", None),
]
REFUSED = {401, 403}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path", "body"),
    PROTECTED_ENDPOINTS,
    ids=[f"{method} {path}" for method, path, _ in PROTECTED_ENDPOINTS],
)
@pytest.mark.parametrize("token", [None, "", "wrong-token"], ids=["no-token", "empty", "wrong"])
def test_rasa_http_api_refuses_requests_without_the_right_token(servers, method, path, body, token):
    query = "" if token is None else f"?token={token}"
    status, answer = http_json(method, f"{servers.rasa_url}{path}{query}", body)
    assert status in REFUSED, (status, answer)


@pytest.mark.slow
def test_the_right_token_opens_the_api(servers):
    status, answer = http_json("GET", f"{servers.rasa_url}/status?token={servers.token}")
    assert status == 200 and answer["model_file"]


@pytest.mark.slow
def test_the_rest_webhook_needs_no_token(servers):
    """Control: patients' messages arrive without the token (the web app relays them)."""
    status, replies = http_json(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"sender": f"sec-{uuid.uuid4().hex}", "message": "hello"},
        timeout=30,
    )
    assert status == 200 and replies[0]["metadata"]["kind"] == "smalltalk"


@pytest.mark.slow
def test_the_token_is_not_in_the_server_logs(servers):
    """The token travels in the query string: nothing may write request lines to the logs."""
    http_json("GET", f"{servers.rasa_url}/status?token={servers.token}")
    logs = "".join(p.read_text(errors="replace") for p in servers.log_dir.glob("*.log"))
    assert servers.token not in logs


# --- no cross-origin access to Rasa --------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage


def raw_request(
    method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> Answer:
    """Status and headers of any answer, errors included (http_json hides the headers)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.headers)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers)


def assert_no_cors_grant(answer: Answer) -> None:
    allowed = answer.headers.get("Access-Control-Allow-Origin")
    assert allowed not in (EVIL, "*", "null"), allowed
    assert answer.headers.get("Access-Control-Allow-Credentials") != "true"


CORS_PATHS = [
    "/webhooks/rest/webhook",
    "/model/parse",
    "/conversations/sec-test/tracker",
    "/socket.io/?EIO=4&transport=polling",
]


@pytest.mark.slow
@pytest.mark.parametrize("path", CORS_PATHS)
def test_rasa_answers_no_preflight_from_another_origin(servers, path):
    """Started without --cors (as `bot run` does by default): a browser on another site may not
    even send the request."""
    answer = raw_request(
        "OPTIONS",
        f"{servers.rasa_url}{path}",
        {
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert_no_cors_grant(answer)


@pytest.mark.slow
def test_a_cross_origin_post_to_the_webhook_is_not_readable_by_the_other_site(servers):
    """A form-like POST needs no preflight; without the header its reply stays unreadable."""
    answer = raw_request(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"Origin": EVIL, "Content-Type": "application/json"},
        b'{"sender": "sec-cors", "message": "hello"}',
    )
    assert_no_cors_grant(answer)


@pytest.mark.slow
def test_a_socketio_websocket_from_another_origin_is_refused(servers):
    connection = http.client.HTTPConnection("127.0.0.1", servers.rasa_port, timeout=10)
    try:
        connection.request(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            headers={
                "Origin": EVIL,
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        status = connection.getresponse().status
    finally:
        connection.close()
    assert status != 101  # 101 Switching Protocols: the WebSocket was opened


# --- the web app's chat API is same-origin -------------------------------------------------
# tests/bot/web/test_patient.py already checks that a POST from https://evil.example is refused
# (403) and that same-origin and configured origins are accepted; these add what it does not.
def _chat(client, origin: str | None, message: str = "does it hurt", client_id: str = "sec-0001"):
    headers = {"Origin": origin} if origin else {}
    return client.post(
        "/api/chat", json={"message": message, "client_id": client_id}, headers=headers
    )


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost.evil.example",  # the site's host as a prefix
        "http://evil.example/http://localhost",
        "https://localhost",  # another scheme
        "http://localhost:8000",  # another port (the test client's site is http://localhost)
        "null",  # sandboxed frames and file: pages
    ],
)
def test_chat_refuses_look_alike_origins(app, rasa, origin):
    response = _chat(app.test_client(), origin)
    assert response.status_code == 403
    assert rasa.sent == []


def test_chat_grants_no_cors_to_another_origin(app):
    client = app.test_client()
    preflight = client.options(
        "/api/chat",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    refused = _chat(client, EVIL)
    for response in (preflight, refused):
        assert "Access-Control-Allow-Origin" not in response.headers


def test_a_configured_origin_does_not_open_the_door_to_others(monkeypatch, tmp_path, rasa):
    # From the environment, as deployed (the existing test sets the config directly).
    monkeypatch.setenv("CLINIC_ALLOWED_ORIGINS", " https://clinic.example/ , ")
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path / "var"))
    app = create_app({"TESTING": True, "SETTINGS": load_settings(), "RASA_CLIENT": rasa})
    assert app.config["ALLOWED_ORIGINS"] == ["https://clinic.example"]
    client = app.test_client()
    assert _chat(client, "https://clinic.example", client_id="sec-0002").status_code == 200
    assert _chat(client, "https://clinic.example.evil.example").status_code == 403
    assert _chat(client, EVIL).status_code == 403


def test_chat_takes_json_only(app, rasa):
    """A cross-site HTML form can send text/plain or urlencoded bodies without a preflight."""
    client = app.test_client()
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post(
            "/api/chat",
            data='{"message": "hi", "client_id": "sec-00000003"}',
            content_type=content_type,
        )
        assert response.status_code == 400
    assert rasa.sent == []


# --- no patient text in the web app's logs -------------------------------------------------
def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.levelno >= logging.INFO
    )


def test_a_chat_message_is_not_logged(app, caplog):
    caplog.set_level(logging.INFO)
    words = f"my name is Zed{uuid.uuid4().hex[:6]} and i take topiramate"
    response = _chat(app.test_client(), None, words, "sec-log-0001")
    assert response.status_code == 200
    assert words not in _logged(caplog) and "topiramate" not in _logged(caplog)


@pytest.fixture
def rasa_down(settings):
    """The web app with the real Rasa client, pointed at a port where nothing listens."""
    token = f"tok-{uuid.uuid4().hex}"
    down = RasaClient(f"http://127.0.0.1:{free_port()}", token, timeout_s=5)
    return create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": down}), token


def test_a_chat_message_is_not_logged_when_rasa_is_down(rasa_down, caplog):
    """The failure path logs an error: with the real client, what it logs has no text."""
    caplog.set_level(logging.INFO)
    app, _ = rasa_down
    words = f"my name is Zed{uuid.uuid4().hex[:6]} and i take topiramate"
    assert _chat(app.test_client(), None, words, "sec-log-0002").status_code == 503
    logged = _logged(caplog)
    assert "could not be delivered" in logged  # the failure itself is logged
    assert words not in logged and "topiramate" not in logged


def test_the_rasa_token_is_not_logged_when_rasa_is_down(rasa_down, caplog):
    caplog.set_level(logging.INFO)
    app, token = rasa_down
    client = app.test_client()
    client.get("/")  # a conversation id in the session cookie
    assert client.get("/api/history").status_code == 503
    assert "could not be read" in _logged(caplog)
    assert token not in _logged(caplog)


def test_a_failed_escalation_write_does_not_log_the_transcript(tmp_path, caplog):
    from sqlalchemy.exc import SQLAlchemyError

    from bot.cases.escalations import EscalationRequest, EscalationWriter

    caplog.set_level(logging.INFO)
    words = f"i take topiramate, call Zed{uuid.uuid4().hex[:6]}"
    writer = EscalationWriter(f"sqlite:///{tmp_path / 'no-tables.db'}", tmp_path / "spool")
    request = EscalationRequest(
        dedup_key=f"sec:{uuid.uuid4().hex}",
        conversation_id="sec-log",
        reason="clinical",
        priority="normal",  # raised at once: no retries, no spool
        transcript=[{"who": "patient", "text": words}],
    )
    with pytest.raises(SQLAlchemyError):
        writer.write(request)
    assert "escalation write failed" in _logged(caplog)
    assert words not in _logged(caplog)


# --- generated secrets ---------------------------------------------------------------------
@pytest.fixture
def var_settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", database_url="sqlite://")


def test_secret_prefers_the_environment(monkeypatch, var_settings):
    monkeypatch.setenv("RASA_AUTH_TOKEN", "from-the-environment")
    assert rasa_token(var_settings) == "from-the-environment"
    assert not (var_settings.var_dir / "rasa-auth-token").exists()


def test_secret_is_generated_once_into_a_private_file(monkeypatch, var_settings):
    monkeypatch.delenv("CLINIC_TEST_SECRET", raising=False)
    value = secret(var_settings, "CLINIC_TEST_SECRET", "test-secret")
    path = var_settings.var_dir / "test-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(value) >= 40  # 32 random bytes, URL-safe base64
    assert secret(var_settings, "CLINIC_TEST_SECRET", "test-secret") == value  # stable
    # An empty variable does not count as set.
    monkeypatch.setenv("CLINIC_TEST_SECRET", "")
    assert secret(var_settings, "CLINIC_TEST_SECRET", "test-secret") == value


def test_the_web_app_signs_sessions_with_the_configured_key(monkeypatch, settings):
    monkeypatch.setenv("CLINIC_SECRET_KEY", "k" * 48)
    app = create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": FakeRasa()})
    assert app.secret_key == "k" * 48
    monkeypatch.delenv("CLINIC_SECRET_KEY")
    generated = create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": FakeRasa()})
    key_file = settings.var_dir / "web-secret-key"
    assert generated.secret_key == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


# --- nothing secret in the repository ------------------------------------------------------
def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def git_checkout() -> Path:
    try:
        inside = _git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        pytest.skip("git is not installed")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        pytest.skip("not a git checkout")
    return PROJECT_ROOT


# What a committed secret looks like. Each pattern says what it catches; values that are clearly
# references (${VAR}, $VAR, <placeholder>) or code (a variable, a function call) do not match.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    # PEM private keys of any kind (RSA, EC, OPENSSH, ENCRYPTED, PGP ... BLOCK).
    "private key": re.compile(r"-{5}BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-{5}"),
    # The Rasa token set to a literal: with = (shell, .env, Makefile) or : (YAML).
    "Rasa token value": re.compile(r"RASA_AUTH_TOKEN\s*[=:]\s*[\"']?(?![$<{\"'\s])[^\s\"'#]{4,}"),
    # rasa run --auth-token <literal>.
    "Rasa token flag": re.compile(r"--auth-token[= ]+[\"']?(?![$<{\"'\s])[A-Za-z0-9_\-]{4,}"),
    # password: literal in YAML (checked in .yml/.yaml files only).
    "YAML password": re.compile(
        r"^\s*[\w-]*passw(?:or)?d[\w-]*\s*:\s*(?![$<{]|~|null\b|[\"']{2}|\s*$)\S",
        re.IGNORECASE | re.MULTILINE,
    ),
    # scheme://user:password@host with a literal password.
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:(?P<value>[^\s@/'\"]+)@"),
    # AWS access key ids and secret access keys.
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(
        r"aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{40}", re.IGNORECASE
    ),
    # Flask's SECRET_KEY set to a string literal (ours comes from secret(): env or var/).
    "Flask SECRET_KEY literal": re.compile(r"SECRET_KEY[\"']?\]?\s*[:=]\s*[\"'][^\"']{4,}[\"']"),
    # A long random-looking literal assigned to a name that says token/secret/password/key.
    "token literal": re.compile(
        r"(?i)[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key)[\w-]*[\"']?\s*[:=]\s*"
        r"[\"'](?P<value>[A-Za-z0-9+/_\-]{20,}={0,2})[\"']"
    ),
}
# "password in a URL" and "token literal" also need the value to look real.
PLACEHOLDER_VALUES = {"pw", "pass", "password", "secret", "changeme", "xxx", "***", "..."}


def _looks_real(name: str, match: re.Match[str]) -> bool:
    value = match.groupdict().get("value")
    if value is None:
        return True
    if name == "password in a URL":
        return value.lower() not in PLACEHOLDER_VALUES and not value.startswith(("$", "<", "{"))
    # Random tokens mix letters and digits; words-with-hyphens test passwords do not.
    return bool(re.search(r"[A-Za-z]", value) and re.search(r"\d", value))


# Reviewed matches: (path, pattern name) -> why it is not a secret. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    ("tests/bot/cases/test_mailer.py", "password in a URL"): (
        "made-up SMTP passwords that test percent-decoding against a throwaway local server"
    ),
}
MAX_SCANNED_BYTES = 2_000_000


def find_secrets(path: str, content: str) -> list[str]:
    found = []
    for name, pattern in SECRET_PATTERNS.items():
        if name == "YAML password" and not path.endswith((".yml", ".yaml")):
            continue
        if (path, name) in ALLOWED:
            continue
        for match in pattern.finditer(content):
            if _looks_real(name, match):
                line = content.count("\n", 0, match.start()) + 1
                found.append(f"{path}:{line}: {name}")
    return found


def _samples() -> list[tuple[str, str, bool]]:
    """(path, text, is a secret). The secrets are put together at run time so that this file
    itself contains none."""
    rasa, key = "RASA_AUTH_" + "TOKEN", "SECRET_" + "KEY"
    random_token = "9f86d081884c7d65" * 3
    return [
        ("id_rsa", "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE...", True),
        ("k.pem", "-----BEGIN " + "PRIVATE KEY-----", True),
        (".env", f"{rasa}=s3cr3t-value", True),
        ("docker-compose.yml", f"  {rasa}: s3cr3t-value", True),
        ("run.sh", "rasa run --enable-api --auth-" + "token s3cr3tvalue", True),
        ("config.yml", "db:\n  pass" + "word: hunter2hunter2", True),
        ("settings.py", 'URL = "postgresql://clinic:' + 'hunter2@db/clinic"', True),
        ("aws.txt", "AKIA" + "ABCDEFGHIJKLMNOP", True),
        ("aws.ini", "aws_secret_access_" + "key = " + "a" * 20 + "B1/" + "c" * 17, True),
        ("app.py", f'app.config["{key}"] = "dev-key-123"', True),
        ("app.py", f'{key} = "dev-key-123"', True),
        ("client.py", f'API_TOKEN = "{random_token}"', True),
        ("settings.yml", f"webhook_secret: '{random_token}'", True),
        # What the repository legitimately contains:
        ("endpoints.yml", "  url: ${CLINIC_DATABASE_URL}", False),
        ("servers.py", f'"{rasa}": token,', False),
        ("servers.py", '"--auth-' + 'token", self.token,', False),
        ("bench.py", f'os.environ["{rasa}"] = servers.token', False),
        ("web.py", f'{key}=secret(settings, "CLINIC_{key}", "web-secret-key", 48),', False),
        ("README.md", "e.g. `postgresql://user:" + "pw@host/clinic`", False),
        ("test_pg.py", 'f"postgresql://clinic@127.0.0.1:{port}/clinic"', False),
        ("test_staff.py", "PASS" + 'WORD = "correct-horse-battery"', False),
        ("c.yml", "pass" + "word: ${CLINIC_DB_PASSWORD}", False),
        ("c.yml", "pass" + "word:", False),
        ("conftest.py", "token=uuid.uuid4().hex,", False),
    ]


@pytest.mark.parametrize(("path", "content", "is_secret"), _samples())
def test_the_secret_patterns_catch_secrets_and_spare_the_code(path, content, is_secret):
    assert bool(find_secrets(path, content)) is is_secret


def test_no_secret_is_committed(git_checkout):
    # Tracked files and new ones git would add (not ignored): catch a secret before the commit.
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
    assert listed.returncode == 0, listed.stderr
    found = []
    for name in sorted(set(filter(None, listed.stdout.split("\0")))):
        path = git_checkout / name
        if not path.is_file() or path.stat().st_size > MAX_SCANNED_BYTES:
            continue  # deleted in the work tree, or a large data file
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:
            continue  # binary
        found += find_secrets(name, raw.decode("utf-8", errors="replace"))
    assert not found, "possible secrets (move them to the environment or var/):\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "path",
    [
        "var/",
        "var/rasa-auth-token",
        "var/web-secret-key",
        "var/clinic.db",
        ".env",
    ],
)
def test_secret_and_data_locations_are_git_ignored(git_checkout, path):
    result = _git("check-ignore", "-q", "--no-index", path)
    assert result.returncode == 0, f"{path} is not git-ignored: add it to .gitignore"


def test_nothing_under_var_or_env_files_is_tracked(git_checkout):
    tracked = _git("ls-files", "--", "var", ".env", "*.env", "**/.env").stdout.split()
    assert tracked == []
