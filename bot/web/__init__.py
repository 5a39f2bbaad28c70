"""The clinic's web app: the patient page with the chat widget, and the staff console.

One WSGI app, created by :func:`create_app`; configuration from the environment.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from bot.config import load_settings, rasa_token, secret


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The app factory. ``test_config`` overrides settings (tests pass a fake Rasa client)."""
    from flask_wtf.csrf import CSRFProtect

    from bot.content.messages import Messages
    from bot.web import patient, security, staff
    from bot.web.rasa_client import RasaClient

    app = Flask(__name__)
    settings = (test_config or {}).get("SETTINGS") or load_settings()
    app.config.from_mapping(
        SETTINGS=settings,
        SECRET_KEY=secret(settings, "CLINIC_SECRET_KEY", "web-secret-key", 48),
        SESSION_COOKIE_NAME="clinic_chat",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind HTTPS (set CLINIC_HTTPS=1) the cookie must never travel in clear text.
        SESSION_COOKIE_SECURE=settings.https,
        PERMANENT_SESSION_LIFETIME=60 * 60 * 24 * 30,
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_SORT_KEYS=False,
        # Other origins allowed to call the chat API, e.g. the clinic's main site if the
        # widget is embedded there. The site's own origin is always allowed.
        ALLOWED_ORIGINS=list(settings.allowed_origins),
        # Messages per sender (conversation) and seconds; more is refused with 429.
        CHAT_RATE_LIMIT=settings.chat_rate_limit,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead; the idle timeout ends both
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["clinic_messages"] = Messages.load(settings.content_dir)
    app.extensions["rasa_client"] = app.config.get("RASA_CLIENT") or RasaClient(
        settings.rasa_url, rasa_token(settings)
    )
    security.init_app(app)
    csrf = CSRFProtect(app)
    patient.init_app(app)
    # The chat API takes JSON only: a cross-site form cannot send it, and SameSite=Lax keeps
    # the cookie off cross-site requests. Every staff form carries a CSRF token.
    csrf.exempt(patient.blueprint)
    app.register_blueprint(staff.blueprint)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
