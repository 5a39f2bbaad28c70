"""Settings read from the environment, with defaults for the embedded (SQLite) set-up."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_RETENTION_DAYS = 365
# The longest patient message the chat API and Rasa's channels accept (a chat box, not an
# essay); longer is refused with a clear error, never cut silently.
MAX_MESSAGE_LENGTH = 2000
# Held-out NLU examples: never trained on; the running bot and the maintainer loop score them.
HELDOUT_PATH = Path("data") / "eval" / "heldout.yml"


def _default_database_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'clinic.db'}"


@dataclass(frozen=True)
class Settings:
    """Where things live. Build with :func:`load_settings`; pass explicitly in tests."""

    var_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""
    content_dir: Path = PROJECT_ROOT / "data" / "content"
    rasa_url: str = "http://127.0.0.1:5005"
    # Optional: POST a notice of each urgent escalation here (no patient text is sent).
    urgent_webhook_url: str = ""
    # The address staff use for the console, for links in notifications.
    public_url: str = ""
    # Optional e-mail to the clinic's inbox (bot.cases.mailer): smtp://host:port/?from=..&to=..
    smtp_url: str = ""
    # Patient data older than this many days is deleted by `bot retention purge`.
    retention_days: int = DEFAULT_RETENTION_DAYS
    # Behind HTTPS the session cookie gets ``Secure`` (CLINIC_HTTPS=1).
    https: bool = False
    # Messages per conversation per seconds on the chat API, "12/60"; more gets 429.
    chat_rate_limit: str = "12/60"
    # Other origins allowed to call the chat API and open socket.io sessions.
    allowed_origins: tuple[str, ...] = ()
    models_dir: Path = PROJECT_ROOT / "models"
    heldout_path: Path = PROJECT_ROOT / HELDOUT_PATH
    # CLINIC_ENV=production: unsigned content and placeholder facts stop `bot content check`.
    production: bool = False
    # The MiniLM encoder exported to ONNX once (bot.nlu.minilm_export); rebuilt if missing.
    encoder_dir: Path = PROJECT_ROOT / ".cache" / "encoder"
    # ONNX Runtime threads per MiniLM call. One message at a time: 1 (a pool's idle workers spin
    # and take the core other patients need; p95 in process 20 vs 25 ms with 2). Training embeds
    # thousands of texts in batches, where 2 halve the time: its subprocess gets 2.
    encoder_threads: int = 1

    @property
    def spool_dir(self) -> Path:
        """Urgent escalations that could not be written yet wait here as JSON files."""
        return self.var_dir / "spool"


def _retention_days() -> int:
    """``CLINIC_RETENTION_DAYS`` as a whole number of days (at least 1), or the default."""
    raw = os.environ.get("CLINIC_RETENTION_DAYS", "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        # A typo must not turn into "delete everything" or "keep forever" silently.
        raise ValueError(f"CLINIC_RETENTION_DAYS must be a whole number of days >= 1, not {raw!r}")
    return days


def _encoder_threads() -> int:
    """``CLINIC_ENCODER_THREADS`` (1 to 16), or 1."""
    raw = os.environ.get("CLINIC_ENCODER_THREADS", "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise ValueError(f"CLINIC_ENCODER_THREADS must be a whole number from 1 to 16, not {raw!r}")
    return int(raw)


def load_settings() -> Settings:
    """Settings from environment variables (``CLINIC_*``) with embedded defaults."""
    var_dir = Path(os.environ.get("CLINIC_VAR_DIR", PROJECT_ROOT / "var")).resolve()
    return Settings(
        var_dir=var_dir,
        database_url=os.environ.get("CLINIC_DATABASE_URL") or _default_database_url(var_dir),
        content_dir=Path(os.environ.get("CLINIC_CONTENT_DIR", PROJECT_ROOT / "data" / "content")),
        rasa_url=os.environ.get("CLINIC_RASA_URL", "http://127.0.0.1:5005"),
        urgent_webhook_url=os.environ.get("CLINIC_URGENT_WEBHOOK_URL", ""),
        public_url=os.environ.get("CLINIC_PUBLIC_URL", ""),
        smtp_url=os.environ.get("CLINIC_SMTP_URL", ""),
        retention_days=_retention_days(),
        https=os.environ.get("CLINIC_HTTPS") == "1",
        chat_rate_limit=os.environ.get("CLINIC_CHAT_RATE_LIMIT", "12/60"),
        allowed_origins=tuple(allowed_origins()),
        production=os.environ.get("CLINIC_ENV", "").strip().lower() == "production",
        encoder_dir=Path(os.environ.get("CLINIC_ENCODER_DIR", PROJECT_ROOT / ".cache" / "encoder")),
        encoder_threads=_encoder_threads(),
    )


def secret(settings: Settings, env_var: str, filename: str, nbytes: int = 32) -> str:
    """``env_var`` if set, else a random secret generated once into ``var/filename`` (0600)."""
    value = os.environ.get(env_var)
    if value:
        return value
    path = settings.var_dir / filename
    if not path.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        # Created 0600 in one step: never readable by others, not even for a moment.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def rasa_token(settings: Settings) -> str:
    """The Rasa HTTP API token: ``RASA_AUTH_TOKEN`` or one generated once into ``var/``."""
    return secret(settings, "RASA_AUTH_TOKEN", "rasa-auth-token")


def allowed_origins() -> list[str]:
    """Other origins (``CLINIC_ALLOWED_ORIGINS``, comma-separated) allowed to call the chat API
    and open socket.io sessions; the site's own origin is always allowed."""
    return [
        o.strip().rstrip("/")
        for o in os.environ.get("CLINIC_ALLOWED_ORIGINS", "").split(",")
        if o.strip()
    ]
