"""More than one Rasa server on one machine: the shape of a production cluster, on loopback.

``scripts/cluster.sh`` (``make cluster``) installs what is missing and runs ``python -m
bot.ops.cluster``, which starts:

- PostgreSQL (a private cluster under the base directory) as tracker store and bot database;
- Redis as Rasa's lock store, so two servers never process one conversation at once;
- one action server, two Rasa servers (``deploy/endpoints.cluster.yml``) and the web app;
- nginx (``deploy/nginx.conf.template``): the public site and socket.io (sticky) on one port,
  and the web app's round-robin route to the Rasa servers on another.

Everything listens on 127.0.0.1. ``cluster.json`` in the base directory lists ports and process
ids (for tests and for stopping one server by hand); Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

from bot.config import PROJECT_ROOT, Settings, rasa_token
from bot.ops.postgres import LocalPostgres, need_binary
from bot.ops.servers import HOST, ServerError, http_json, server_environment, terminate

logger = logging.getLogger(__name__)

NGINX_TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"
CLUSTER_ENDPOINTS = PROJECT_ROOT / "deploy" / "endpoints.cluster.yml"
RASA_SERVERS = 2


@dataclass
class ClusterPorts:
    """Every port of the cluster; all on 127.0.0.1."""

    public: int = 8080
    internal: int = 8081
    web: int = 8090
    action: int = 5255
    rasa: tuple[int, ...] = (5205, 5206)
    redis: int = 6390
    postgres: int = 5440


@dataclass
class Cluster:
    """Starts and stops every process of the cluster; see the module docstring."""

    base_dir: Path
    ports: ClusterPorts = field(default_factory=ClusterPorts)
    token: str | None = None
    model_path: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: list[IO] = field(default_factory=list)
    postgres: LocalPostgres | None = None

    def __post_init__(self) -> None:
        self.postgres = LocalPostgres(self.base_dir, self.ports.postgres)

    # --- addresses ------------------------------------------------------------------------
    @property
    def database_url(self) -> str:
        return self.postgres.url

    @property
    def public_url(self) -> str:
        return f"http://{HOST}:{self.ports.public}"

    @property
    def internal_url(self) -> str:
        return f"http://{HOST}:{self.ports.internal}"

    def rasa_url(self, index: int) -> str:
        return f"http://{HOST}:{self.ports.rasa[index]}"

    @property
    def settings(self) -> Settings:
        return Settings(
            var_dir=self.base_dir / "var",
            database_url=self.database_url,
            rasa_url=self.internal_url,
        )

    @property
    def log_dir(self) -> Path:
        return self.base_dir / "logs"

    # --- processes ------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        self.processes[name] = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=env or dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        logger.info("started %s (pid %s)", name, self.processes[name].pid)

    def _environment(self) -> dict[str, str]:
        env = server_environment(
            self.settings,
            f"http://{HOST}:{self.ports.action}/webhook",
            self.internal_url,
            self.token or "",
        )
        env["CLINIC_REDIS_HOST"] = HOST
        env["CLINIC_REDIS_PORT"] = str(self.ports.redis)
        return env

    # --- nginx ---------------------------------------------------------------------------
    def nginx_config(self) -> str:
        run_dir = self.base_dir / "nginx"
        servers = "\n".join(
            f"        server {HOST}:{port} max_fails=1 fail_timeout=10s;"
            for port in self.ports.rasa
        )
        values = {
            "user_line": "user nobody nogroup;" if os.geteuid() == 0 else "",
            "run_dir": str(run_dir),
            "log_dir": str(self.log_dir),
            "rasa_servers": servers,
            "web_port": str(self.ports.web),
            "public_port": str(self.ports.public),
            "internal_port": str(self.ports.internal),
        }
        text = NGINX_TEMPLATE.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        return text

    def _write_nginx_config(self) -> Path:
        run_dir = self.base_dir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(run_dir / sub, "nobody", "nogroup")  # the workers write there
        path = run_dir / "nginx.conf"
        path.write_text(self.nginx_config(), encoding="utf-8")
        nginx = need_binary("nginx")
        check = subprocess.run(
            [nginx, "-t", "-q", "-e", str(self.log_dir / "nginx-error.log"), "-c", str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        if check.returncode != 0:
            raise ServerError(f"nginx configuration refused: {check.stderr}")
        return path

    # --- the whole ----------------------------------------------------------------------
    def start(self, timeout: float = 240.0) -> None:
        """Starts everything, waits until every server answers and each Rasa model is warm."""
        from bot.maintain.training import train
        from bot.ops.bootstrap import prepare_database

        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.postgres.start()
            self._spawn(
                "redis",
                [need_binary("redis-server"), "--bind", HOST, "--port", str(self.ports.redis),
                 "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            )  # fmt: skip
            prepare_database(self.settings)
            if self.token is None:
                self.token = rasa_token(self.settings)
            if self.model_path is None:
                self.model_path, _ = train(PROJECT_ROOT / "models")
            env = self._environment()
            bin_dir = Path(sys.executable).parent
            self._spawn(
                "actions",
                [str(bin_dir / "rasa"), "run", "actions", "--actions", "actions",
                 "--port", str(self.ports.action)],
                env,
            )  # fmt: skip
            for index, port in enumerate(self.ports.rasa):
                self._spawn(f"rasa-{index}", self.rasa_command(port), env)
            self._spawn("web", [str(bin_dir / "bot"), "web", "--port", str(self.ports.web)], env)
            config = self._write_nginx_config()
            self._spawn(
                "nginx",
                [need_binary("nginx"), "-c", str(config),
                 "-e", str(self.log_dir / "nginx-error.log"), "-g", "daemon off;"],
            )  # fmt: skip
            self.wait_until_ready(timeout)
            self.write_state()
        except BaseException:
            self.stop()
            raise

    def rasa_command(self, port: int) -> list[str]:
        return [
            sys.executable, "-m", "bot.rasa_server", "run", "--enable-api",
            f"--auth-token={self.token or ''}", "--interface", HOST, "--port", str(port),
            "--model", str(self.model_path), "--endpoints", str(CLUSTER_ENDPOINTS),
            "--credentials", "credentials.yml",
        ]  # fmt: skip

    def _ready(self) -> bool:
        checks = [f"http://{HOST}:{self.ports.action}/health", f"{self.public_url}/healthz"]
        checks += [f"{self.rasa_url(i)}/status?token={self.token}" for i in range(RASA_SERVERS)]
        try:
            return all(http_json("GET", url, None, 2)[0] == 200 for url in checks)
        except (OSError, ValueError):
            return False

    def wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ServerError(
                        f"{name} exited with code {process.returncode}; see {self.log_dir}"
                    )
            if time.monotonic() > deadline:
                raise ServerError(f"cluster not ready after {timeout:.0f} s; see {self.log_dir}")
            time.sleep(0.5)
        # The first parse builds the TensorFlow graph: do it on each server before patients do.
        for index in range(RASA_SERVERS):
            for text in ("hello", "does it hurt"):
                http_json(
                    "POST", f"{self.rasa_url(index)}/model/parse?token={self.token}",
                    {"text": text}, 60,
                )  # fmt: skip

    def write_state(self) -> Path:
        """``cluster.json``: ports, URLs and process ids (no secrets)."""
        state = {
            "ports": asdict(self.ports),
            "public_url": self.public_url,
            "internal_url": self.internal_url,
            "database_url": self.database_url,
            "pids": {name: p.pid for name, p in self.processes.items()},
            "logs": str(self.log_dir),
        }
        path = self.base_dir / "cluster.json"
        path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        return path

    def stop_process(self, name: str) -> None:
        """SIGTERM to one process group, SIGKILL if it lingers (as ServerSet does)."""
        process = self.processes.get(name)
        if process is not None:
            terminate(process)

    def stop(self) -> None:
        # nginx first (no new requests), then the servers, the stores last.
        for name in ["nginx", "web", *(f"rasa-{i}" for i in range(RASA_SERVERS)), "actions"]:
            self.stop_process(name)
        self.stop_process("redis")
        self.postgres.stop()
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-dir", type=Path, default=PROJECT_ROOT / "var" / "cluster")
    defaults = ClusterPorts()
    for name in ("public", "internal", "web", "action", "redis", "postgres"):
        parser.add_argument(f"--{name}-port", type=int, default=getattr(defaults, name))
    parser.add_argument("--rasa-ports", default=",".join(map(str, defaults.rasa)))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    ports = ClusterPorts(
        public=args.public_port,
        internal=args.internal_port,
        web=args.web_port,
        action=args.action_port,
        rasa=tuple(int(p) for p in args.rasa_ports.split(",")),
        redis=args.redis_port,
        postgres=args.postgres_port,
    )
    if len(ports.rasa) != RASA_SERVERS:
        parser.error(f"--rasa-ports needs {RASA_SERVERS} ports")
    cluster = Cluster(args.base_dir.resolve(), ports)
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    print("starting PostgreSQL, Redis, the action server, two Rasa servers, the web app, nginx")
    cluster.start()
    print(
        "ready. On 127.0.0.1:\n"
        f"  patients:  {cluster.public_url}/   staff: {cluster.public_url}/staff\n"
        f"  internal:  {cluster.internal_url}  (the web app's route to the Rasa servers)\n"
        f"  state:     {cluster.base_dir / 'cluster.json'}\n"
        f"  logs:      {cluster.log_dir}\n"
        "Ctrl-C stops everything.",
        flush=True,
    )
    try:
        while not stop["now"]:
            # A stopped Rasa server is survivable (that is the point); the rest is not.
            for name in ("actions", "web", "nginx", "redis"):
                if cluster.processes[name].poll() is not None:
                    print(f"{name} stopped unexpectedly; see {cluster.log_dir}", file=sys.stderr)
                    stop["now"] = True
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        cluster.stop()


if __name__ == "__main__":
    main()
