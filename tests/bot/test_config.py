"""One Settings for every path, limit and switch, read once from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import HELDOUT_PATH, PROJECT_ROOT, Settings, load_settings


def test_defaults_are_the_embedded_set_up(monkeypatch, tmp_path):
    for name in ("CLINIC_DATABASE_URL", "CLINIC_HTTPS", "CLINIC_CHAT_RATE_LIMIT",
                 "CLINIC_ALLOWED_ORIGINS", "CLINIC_RETENTION_DAYS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'clinic.db'}"
    assert settings.spool_dir == tmp_path / "spool"
    assert (settings.https, settings.chat_rate_limit, settings.allowed_origins) == (
        False, "12/60", ())  # fmt: skip
    assert settings.retention_days == 365


def test_every_switch_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CLINIC_HTTPS", "1")
    monkeypatch.setenv("CLINIC_CHAT_RATE_LIMIT", "5/10")
    monkeypatch.setenv("CLINIC_ALLOWED_ORIGINS", "https://a.example/, ,https://b.example")
    monkeypatch.setenv("CLINIC_RETENTION_DAYS", "30")
    monkeypatch.setenv("CLINIC_DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("CLINIC_ENCODER_THREADS", "1")
    settings = load_settings()
    assert settings.encoder_threads == 1
    assert settings.https is True
    assert settings.chat_rate_limit == "5/10"
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.retention_days == 30
    assert settings.database_url == "postgresql://x/y"


@pytest.mark.parametrize("threads", ["0", "-1", "two", "1.5", "17"])
def test_an_encoder_threads_typo_is_refused(monkeypatch, threads):
    monkeypatch.setenv("CLINIC_ENCODER_THREADS", threads)
    with pytest.raises(ValueError, match="CLINIC_ENCODER_THREADS"):
        load_settings()


@pytest.mark.parametrize("days", ["0", "-3", "soon", "1.5"])
def test_a_retention_typo_is_refused_not_guessed(monkeypatch, days):
    monkeypatch.setenv("CLINIC_RETENTION_DAYS", days)
    with pytest.raises(ValueError, match="CLINIC_RETENTION_DAYS"):
        load_settings()


def test_the_running_bot_never_reads_the_test_tree():
    assert HELDOUT_PATH.parts[0] != "tests"
    assert (PROJECT_ROOT / HELDOUT_PATH).exists()
    assert Settings().heldout_path == PROJECT_ROOT / HELDOUT_PATH
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "bot").rglob("*.py")
        if '"tests"' in path.read_text(encoding="utf-8")
        or "tests/" in path.read_text(encoding="utf-8").replace("tests/sealed", "")
    ]
    assert offenders == []


def test_cross_validation_uses_the_pipeline_settings_of_config_yml(tmp_path):
    from bot.maintain.evaluate import _pipeline_settings

    config = (PROJECT_ROOT / "config.yml").read_text(encoding="utf-8")
    (tmp_path / "config.yml").write_text(
        config.replace("max_ngram: 5", "max_ngram: 4").replace("C: 10.0", "C: 3.0")
    )
    settings = _pipeline_settings(Path(tmp_path))
    assert (settings["analyzer"], settings["min_ngram"], settings["max_ngram"]) == (
        "char_wb", 2, 4)  # fmt: skip
    assert settings["C"] == 3.0


def test_one_encoder_thread_by_default(monkeypatch):
    monkeypatch.delenv("CLINIC_ENCODER_THREADS", raising=False)
    assert load_settings().encoder_threads == 1  # one message at a time: a second thread spins
