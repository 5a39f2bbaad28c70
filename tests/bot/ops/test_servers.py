"""servers.py without Rasa: the command lines, the environment, the readiness check against a
loopback stand-in, and process handling on real short-lived subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Settings
from bot.ops.servers import HOST, ServerError, ServerSet, http_json, server_environment, terminate
from tests.helpers import free_port

MODEL = Path("/models/clinic-0123456789abcdef.tar.gz")
TOKEN = "t0k3n-for-tests"


@pytest.fixture
def server_set(settings: Settings, tmp_path: Path):
    servers = ServerSet(
        settings,
        MODEL,
        TOKEN,
        rasa_port=15005,
        action_port=15055,
        web_port=18000,
        log_dir=tmp_path / "logs",
    )
    yield servers
    servers.stop()


def option(args: list[str], name: str) -> str:
    """The value after ``name`` in a command line (exactly one occurrence)."""
    assert args.count(name) == 1, args
    return args[args.index(name) + 1]


# --- command lines -------------------------------------------------------------------------------


def test_the_rasa_server_command(server_set):
    args = server_set.command("rasa")
    assert args[:5] == [sys.executable, "-m", "bot.rasa_server", "run", "--enable-api"]
    assert f"--auth-token={TOKEN}" in args
    assert option(args, "--interface") == "127.0.0.1"
    assert option(args, "--port") == "15005"
    assert option(args, "--model") == str(MODEL)
    assert option(args, "--endpoints") == "endpoints.yml"
    assert option(args, "--credentials") == "credentials.yml"
    assert "--cors" not in args


def test_rasa_reads_a_token_that_starts_with_a_dash(settings):
    # secrets.token_urlsafe starts with "-" one time in 64: "--auth-token", "-x..." made Rasa
    # exit with "expected one argument" (a cluster server failed to start in CI).
    from rasa.__main__ import create_argument_parser

    args = ServerSet(settings, MODEL, "-dash-first-token").command("rasa")
    parsed = create_argument_parser().parse_args(args[3:])
    assert parsed.auth_token == "-dash-first-token"


def test_the_rasa_server_command_with_cors_origins(settings):
    servers = ServerSet(
        settings, MODEL, TOKEN, cors_origins=("https://clinic.example", "https://b.example")
    )
    args = servers.command("rasa")
    cors = [args[i + 1] for i, a in enumerate(args) if a == "--cors"]
    assert cors == ["https://clinic.example", "https://b.example"]


def test_the_action_server_command(server_set):
    args = server_set.command("actions")
    assert args[0] == str(Path(sys.executable).parent / "rasa")
    assert args[1:3] == ["run", "actions"]
    assert option(args, "--actions") == "actions"
    assert option(args, "--port") == "15055"
    # rasa_sdk has no interface option: SANIC_HOST keeps it on loopback
    assert "--host" not in args and "0.0.0.0" not in args
    assert server_set.environment()["SANIC_HOST"] == "127.0.0.1"


def test_the_action_server_reads_sanic_host():
    """Otherwise it listens on 0.0.0.0 (rasa_sdk's default): a check against an upgrade."""
    import inspect

    from rasa_sdk import endpoint

    assert 'os.environ.get("SANIC_HOST"' in inspect.getsource(endpoint.run)


def test_the_web_command(server_set):
    assert server_set.command("web") == [
        str(Path(sys.executable).parent / "bot"),
        "web",
        "--port",
        "18000",
    ]


def test_the_commands_exist_in_the_venv(server_set):
    for name in ("actions", "web"):
        assert Path(server_set.command(name)[0]).exists(), name


def test_every_url_is_on_loopback(server_set):
    assert HOST == "127.0.0.1"
    assert server_set.rasa_url == "http://127.0.0.1:15005"
    assert server_set.action_url == "http://127.0.0.1:15055/webhook"
    assert server_set.web_url == "http://127.0.0.1:18000"


def test_the_default_ports(settings):
    servers = ServerSet(settings, MODEL, TOKEN)
    assert (servers.rasa_port, servers.action_port, servers.web_port) == (5005, 5055, 8000)


# --- server_environment -------------------------------------------------------------------------


def test_server_environment(settings, monkeypatch):
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    monkeypatch.setenv("RASA_AUTH_TOKEN", "an-old-token")
    monkeypatch.setenv("PYTHONPATH", "/opt/extra")
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    env = server_environment(settings, "http://127.0.0.1:1/webhook", "http://127.0.0.1:2", TOKEN)
    assert env["CLINIC_DATABASE_URL"] == settings.database_url
    assert env["CLINIC_VAR_DIR"] == str(settings.var_dir)
    assert env["CLINIC_CONTENT_DIR"] == str(settings.content_dir)
    assert env["CLINIC_ACTION_URL"] == "http://127.0.0.1:1/webhook"
    assert env["CLINIC_RASA_URL"] == "http://127.0.0.1:2"
    assert env["RASA_AUTH_TOKEN"] == TOKEN  # the set's own token, not the caller's
    assert env["SANIC_HOST"] == "127.0.0.1"
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    assert (env["HF_HUB_OFFLINE"], env["TRANSFORMERS_OFFLINE"]) == ("1", "1")
    assert env["PYTHONPATH"] == os.pathsep.join([str(PROJECT_ROOT), "/opt/extra"])
    assert env["SOMETHING_ELSE"] == "kept"
    assert os.environ["RASA_AUTH_TOKEN"] == "an-old-token"  # the caller's is not changed


def test_server_environment_without_a_pythonpath(settings, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    env = server_environment(settings, "a", "b", TOKEN)
    assert env["PYTHONPATH"] == str(PROJECT_ROOT)


def test_the_set_gives_its_own_urls_to_its_servers(server_set):
    env = server_set.environment()
    assert env["CLINIC_ACTION_URL"] == server_set.action_url
    assert env["CLINIC_RASA_URL"] == server_set.rasa_url
    assert env["RASA_AUTH_TOKEN"] == TOKEN


# --- terminate ------------------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen:
    """A process in its own group, as ServerSet starts its servers."""
    return subprocess.Popen(list(args), start_new_session=True)


def gone(pid: int) -> bool:
    """Ended (or a zombie waiting for a parent that is not this test)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1].startswith("Z")
    except FileNotFoundError:
        return True


def test_terminate_ends_a_running_process_with_sigterm():
    process = spawn("sleep", "30")
    started = time.monotonic()
    terminate(process)
    assert process.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 5


def test_terminate_ends_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    process = spawn("sh", "-c", f"sleep 30 & echo $! > {pid_file}; wait")
    deadline = time.monotonic() + 5
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    child = int(pid_file.read_text())
    terminate(process)
    deadline = time.monotonic() + 5
    while not gone(child):
        assert time.monotonic() < deadline, "the server's child survived"
        time.sleep(0.01)


def test_terminate_kills_a_process_that_ignores_sigterm(tmp_path):
    ready = tmp_path / "ready"
    process = spawn("sh", "-c", f"trap '' TERM; touch {ready}; sleep 30")
    deadline = time.monotonic() + 5
    while not ready.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    terminate(process, timeout=0.3)
    assert process.returncode == -signal.SIGKILL


def test_terminate_an_ended_process_is_harmless():
    process = spawn("true")
    process.wait()
    terminate(process)
    assert process.returncode == 0


# --- spawning, stopping, readiness ------------------------------------------------------------


def test_spawn_and_stop_one_server_then_all(server_set, tmp_path):
    server_set._spawn("actions", ["sleep", "30"])
    server_set._spawn("rasa", ["sh", "-c", "echo rasa-started; sleep 30"])
    actions, rasa = server_set.named["actions"], server_set.named["rasa"]
    assert server_set.processes == [actions, rasa]
    log = tmp_path / "logs" / "rasa.log"
    deadline = time.monotonic() + 10
    while "rasa-started" not in log.read_text():  # its output goes to its log file
        assert time.monotonic() < deadline
        time.sleep(0.01)

    server_set.stop_server("actions")
    assert actions.returncode == -signal.SIGTERM
    assert server_set.processes == [rasa] and list(server_set.named) == ["rasa"]
    assert rasa.poll() is None  # the others keep running

    handles = list(server_set._logs)
    server_set.stop()
    assert rasa.returncode is not None
    assert server_set.processes == [] and server_set.named == {}
    assert (tmp_path / "logs" / "actions.log").exists()
    assert len(handles) == 2 and all(handle.closed for handle in handles)
    assert server_set._logs == []


def test_spawned_servers_get_the_environment_and_the_project_as_cwd(server_set, tmp_path):
    out = tmp_path / "seen"
    script = (
        "import os, pathlib, sys; pathlib.Path(sys.argv[1]).write_text("
        "os.getcwd() + '|' + os.environ['RASA_AUTH_TOKEN'] + '|' + os.environ['SANIC_HOST'])"
    )
    server_set._spawn("probe", [sys.executable, "-c", script, str(out)])
    server_set.named["probe"].wait(timeout=30)
    assert out.read_text() == f"{PROJECT_ROOT}|{TOKEN}|127.0.0.1"


def test_a_server_that_exits_is_an_error(server_set):
    server_set._spawn("rasa", [sys.executable, "-c", "raise SystemExit(3)"])
    server_set.named["rasa"].wait(timeout=30)
    with pytest.raises(ServerError, match="exited with code 3"):
        server_set.wait_until_ready(timeout=5)


def test_servers_that_never_answer_time_out(settings):
    servers = ServerSet(
        settings, MODEL, TOKEN, rasa_port=free_port(), action_port=free_port(), web_port=None
    )
    started = time.monotonic()
    with pytest.raises(ServerError, match="not ready after 0 s"):
        servers.wait_until_ready(timeout=0)
    assert time.monotonic() - started < 5


def ready_stub(stub, model_file: str = "models/clinic-x.tar.gz"):
    stub.json("GET", "/health", 200, {"status": "ok"})
    stub.json("GET", "/status", 200, {"model_file": model_file})
    stub.json("GET", "/healthz", 200, {"ok": True})
    stub.json("POST", "/model/parse", 200, {"intent": {"name": "greet"}})


def on_stub(settings, stub, web: bool = True) -> ServerSet:
    port = stub.port
    return ServerSet(
        settings, MODEL, TOKEN, rasa_port=port, action_port=port, web_port=port if web else None
    )


def test_ready_means_healthy_and_warmed_up(settings, stub):
    ready_stub(stub)
    servers = on_stub(settings, stub)
    assert servers._healthy()
    servers.wait_until_ready(timeout=5)
    parses = [r for r in stub.received if r[0] == "POST"]
    assert [body["text"] for _, _, body in parses] == [
        "hello",
        "does it hurt",
        "how long does it take",
    ]
    assert all(path == f"/model/parse?token={TOKEN}" for _, path, _ in parses)
    assert ("GET", f"/status?token={TOKEN}", None) in stub.received


@pytest.mark.parametrize(
    ("route", "status", "body"),
    [
        (("GET", "/status"), 200, {"model_file": ""}),  # Rasa up, no model loaded yet
        (("GET", "/status"), 200, ["not", "a", "dict"]),
        (("GET", "/status"), 401, {"message": "bad token"}),
        (("GET", "/health"), 503, {}),
        (("GET", "/healthz"), 500, {}),
    ],
)
def test_not_healthy(settings, stub, route, status, body):
    ready_stub(stub)
    stub.json(*route, status, body)
    assert not on_stub(settings, stub)._healthy()


def test_the_web_app_is_not_checked_without_a_web_port(settings, stub):
    ready_stub(stub)
    stub.json("GET", "/healthz", 500, {})
    assert on_stub(settings, stub, web=False)._healthy()


# --- http_json ------------------------------------------------------------------------------------


def test_http_json(stub):
    stub.json("POST", "/echo", 200, {"ok": True})
    stub.routes[("PUT", "/model")] = (204, b"")
    stub.json("GET", "/bad", 400, {"message": "no"})
    stub.routes[("GET", "/html")] = (502, b"<html>bad gateway</html>")
    assert http_json("POST", f"{stub.url}/echo", {"a": 1}) == (200, {"ok": True})
    assert stub.received[-1] == ("POST", "/echo", {"a": 1})
    assert http_json("PUT", f"{stub.url}/model", {"model_file": "x"}) == (204, None)
    assert http_json("GET", f"{stub.url}/bad") == (400, {"message": "no"})
    assert http_json("GET", f"{stub.url}/html") == (502, "<html>bad gateway</html>")
    assert stub.received[-1] == ("GET", "/html", None)


def test_http_json_to_nothing_raises_an_os_error():
    with pytest.raises(urllib.error.URLError):
        http_json("GET", f"http://127.0.0.1:{free_port()}/", timeout=2)
