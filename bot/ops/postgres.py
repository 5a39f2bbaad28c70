"""A private PostgreSQL server on loopback: for the cluster and for tests of the PostgreSQL
setting. Created with ``initdb`` under a base directory, stopped with its process group."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.ops.servers import HOST, ServerError

logger = logging.getLogger(__name__)


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise ServerError(f"PostgreSQL's {name} is not installed (scripts/cluster.sh installs it)")
    return found


def need_binary(binary: str) -> str:
    found = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise ServerError(f"{binary} is not installed (scripts/cluster.sh installs it)")
    return found


@dataclass
class LocalPostgres:
    """A private PostgreSQL server on loopback, from Debian's binaries (trust auth, user
    ``clinic``, database ``clinic``). Data lives in ``base_dir/pg`` when the postgres user can
    reach it, else in a folder under /tmp."""

    base_dir: Path
    port: int
    data_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql://clinic@{HOST}:{self.port}/clinic"

    def _as_postgres(self) -> list[str]:
        # PostgreSQL refuses to run as root.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pick_data_dir(self) -> Path:
        wanted = self.base_dir / "pg"
        if os.geteuid() != 0:
            return wanted
        # The postgres user must reach the folder; a checkout under a private home cannot be.
        self.base_dir.mkdir(parents=True, exist_ok=True)
        probe = subprocess.run(
            [*self._as_postgres(), "test", "-x", str(self.base_dir)], capture_output=True
        )
        if probe.returncode == 0:
            return wanted
        fallback = Path(tempfile.mkdtemp(prefix="clinic-pg-"))
        fallback.chmod(0o755)
        return fallback / "pg"

    def start(self) -> None:
        """Creates the cluster on first use, starts it, creates the database if missing."""
        if self.data_dir is None:
            self.data_dir = self._pick_data_dir()
        data = self.data_dir
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            data.chmod(0o700)
            if os.geteuid() == 0:
                shutil.chown(data, "postgres")
            subprocess.run(
                [*self._as_postgres(), pg_bin("initdb"), "-D", str(data), "-A", "trust",
                 "-U", "clinic"],
                check=True, capture_output=True,
            )  # fmt: skip
        options = f"-p {self.port} -c listen_addresses={HOST} -k {data}"
        result = subprocess.run(
            [*self._as_postgres(), pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-w",
             "-l", str(data / "server.log"), "start"],
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerError(f"PostgreSQL did not start: {result.stdout} {result.stderr}")
        from bot.db.session import make_engine

        admin = make_engine(f"postgresql://clinic@{HOST}:{self.port}/postgres")
        try:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                exists = connection.exec_driver_sql(
                    "SELECT 1 FROM pg_database WHERE datname = 'clinic'"
                ).first()
                if not exists:
                    connection.exec_driver_sql("CREATE DATABASE clinic")
        finally:
            admin.dispose()

    def stop(self) -> None:
        if self.data_dir is not None and (self.data_dir / "postmaster.pid").exists():
            subprocess.run(
                [*self._as_postgres(), pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m",
                 "fast", "stop"],
                capture_output=True,
            )  # fmt: skip
