"""Starting, warming up and stopping the action server and the Rasa server on loopback."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start or became unhealthy."""


def http_json(
    method: str, url: str, body: dict | None = None, timeout: float = 10.0
) -> tuple[int, object]:
    """A small JSON HTTP client on the standard library (no extra dependency in the bot)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw) if raw else None
        except ValueError:
            return error.code, raw.decode(errors="replace")


def server_environment(
    settings: Settings, action_url: str, rasa_url: str, token: str
) -> dict[str, str]:
    """The environment every server process of ours gets: settings, token, loopback, quiet."""
    env = dict(os.environ)
    env.update(
        {
            "CLINIC_DATABASE_URL": settings.database_url,
            "CLINIC_VAR_DIR": str(settings.var_dir),
            "CLINIC_CONTENT_DIR": str(settings.content_dir),
            "CLINIC_ACTION_URL": action_url,
            "CLINIC_RASA_URL": rasa_url,
            "RASA_AUTH_TOKEN": token,
            "SANIC_HOST": HOST,  # rasa_sdk reads this: keep the action server on loopback
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p
            ),
            # Rasa otherwise phones home with usage data.
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    return env


@dataclass
class ServerSet:
    """The action server and the Rasa server, started together and stopped together."""

    settings: Settings
    model_path: Path
    token: str
    rasa_port: int = 5005
    action_port: int = 5055
    web_port: int | None = 8000  # None: no web app (the NLU/REST-only tests)
    cors_origins: tuple[str, ...] = ()
    log_dir: Path | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)
    named: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://{HOST}:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    @property
    def action_url(self) -> str:
        return f"http://{HOST}:{self.action_port}/webhook"

    def environment(self) -> dict[str, str]:
        return server_environment(self.settings, self.action_url, self.rasa_url, self.token)

    def _spawn(self, name: str, args: list[str]) -> None:
        stdout: IO | int | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
            self._logs.append(log)
            stdout = log
        process = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=self.environment(),
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            start_new_session=True,  # so stop() can end the whole process group
        )
        self.processes.append(process)
        self.named[name] = process
        logger.info("started %s (pid %s)", name, process.pid)

    def command(self, name: str) -> list[str]:
        """The command line of one server: ``actions``, ``rasa`` or ``web``."""
        bin_dir = Path(sys.executable).parent
        if name == "actions":
            return [
                str(bin_dir / "rasa"), "run", "actions", "--actions", "actions",
                "--port", str(self.action_port),
            ]  # fmt: skip
        if name == "web":
            return [str(bin_dir / "bot"), "web", "--port", str(self.web_port)]
        rasa_args = [
            sys.executable, "-m", "bot.rasa_server", "run", "--enable-api",
            # One argument with "=": a token may start with "-" (token_urlsafe), which argparse
            # would read as another option ("expected one argument").
            f"--auth-token={self.token}",
            "--interface", HOST, "--port", str(self.rasa_port), "--model", str(self.model_path),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
        ]  # fmt: skip
        for origin in self.cors_origins:
            rasa_args += ["--cors", origin]
        return rasa_args

    def start(self, timeout: float = 180.0) -> None:
        """Starts the servers and returns once a parse has run end to end (model warm)."""
        names = ["actions", "rasa"] + (["web"] if self.web_port is not None else [])
        for name in names:
            self._spawn(name, self.command(name))
        try:
            self.wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop_server(self, name: str) -> None:
        """Stops one server (SIGTERM, as an orchestrator would); the others keep running."""
        process = self.named.pop(name)
        terminate(process)
        self.processes.remove(process)

    def start_server(self, name: str, timeout: float = 180.0) -> None:
        """Starts one stopped server again and waits until all are ready."""
        self._spawn(name, self.command(name))
        self.wait_until_ready(timeout)

    def wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for process in self.processes:
                if process.poll() is not None:
                    raise ServerError(f"a server exited with code {process.returncode}")
            if self._healthy():
                break
            if time.monotonic() > deadline:
                raise ServerError(f"servers not ready after {timeout:.0f} s")
            time.sleep(0.5)
        # The first parse builds the TensorFlow graph; do it before anyone is waiting.
        for text in ("hello", "does it hurt", "how long does it take"):
            http_json("POST", f"{self.rasa_url}/model/parse?token={self.token}", {"text": text}, 60)

    def _healthy(self) -> bool:
        try:
            health = self.action_url.replace("/webhook", "/health")
            action_status, _ = http_json("GET", health, None, 2)
            rasa_status, body = http_json(
                "GET", f"{self.rasa_url}/status?token={self.token}", None, 2
            )
        except (OSError, ValueError):
            return False
        if self.web_port is not None:
            try:
                web_status, _ = http_json("GET", f"{self.web_url}/healthz", None, 2)
            except (OSError, ValueError):
                return False
            if web_status != 200:
                return False
        return (
            action_status == 200
            and rasa_status == 200
            and isinstance(body, dict)
            and bool(body.get("model_file"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            terminate(process)
        self.processes.clear()
        self.named.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def __enter__(self) -> ServerSet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def terminate(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM to the process group, SIGKILL if it has not ended after ``timeout``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
