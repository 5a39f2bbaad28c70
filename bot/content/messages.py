"""Clinic facts and vetted conversation messages, formatted with those facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Messages:
    """Fixed, reviewed texts for everything that is not an FAQ answer."""

    clinic: dict[str, str]
    placeholders: tuple[str, ...]
    texts: dict[str, str]
    buttons: dict[str, list[dict[str, str]]]
    suggestions: dict[str, str]
    answer_buttons_by_intent: dict[str, str]
    # message key -> language -> text (data/content/translations.yml)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, content_dir: Path) -> Messages:
        clinic_raw = yaml.safe_load((content_dir / "clinic.yml").read_text(encoding="utf-8"))
        raw = yaml.safe_load((content_dir / "messages.yml").read_text(encoding="utf-8"))
        return cls(
            clinic={k: str(v) for k, v in clinic_raw["clinic"].items()},
            placeholders=tuple(clinic_raw.get("placeholders") or ()),
            texts={k: " ".join(str(v).split()) for k, v in raw["messages"].items()},
            buttons=raw.get("buttons") or {},
            suggestions=raw.get("suggestions") or {},
            answer_buttons_by_intent=raw.get("answer_buttons") or {},
            translations=_translations(content_dir / "translations.yml"),
        )

    def text(self, key: str) -> str:
        """The message ``key`` with clinic facts filled in."""
        return self.texts[key].format(**self.clinic)

    def translated(self, key: str, language: str | None) -> str | None:
        """The vetted translation of message ``key`` into ``language``, or None."""
        text = self.translations.get(key, {}).get(language or "")
        return " ".join(text.split()).format(**self.clinic) if text else None

    def bilingual(self, key: str, language: str | None, english_key: str | None = None) -> str:
        """The translation of ``key`` first (when there is one), then the English message
        ``english_key`` (default ``key``): a wrong language guess still leaves the English."""
        english = self.text(english_key or key)
        translated = self.translated(key, language)
        return f"{translated}\n\n{english}" if translated else english

    def all_texts(self) -> set[str]:
        """Every message text the assistant may send, translations combined as it sends them."""
        texts = {self.text(key) for key in self.texts}
        for key, by_language in self.translations.items():
            english_keys = [key] if key in self.texts else []
            if key == "language_notice":
                english_keys = ["handoff_language", "handoff_failed"]
            for language in by_language:
                texts |= {self.bilingual(key, language, e) for e in english_keys}
        return texts

    def button_list(self, key: str) -> list[dict[str, str]]:
        """Rasa buttons whose payload triggers the intent directly (``/intent``)."""
        return [
            {"title": b["title"], "payload": f"/{b['intent']}"} for b in self.buttons.get(key, [])
        ]

    def answer_buttons(self, intent: str) -> list[dict[str, str]]:
        """Buttons shown under the answer for ``intent`` (e.g. "I have these symptoms now")."""
        key = self.answer_buttons_by_intent.get(intent)
        return self.button_list(key) if key else []

    def payload_titles(self) -> dict[str, str]:
        """Button title by intent, to show a pressed button as the patient's words."""
        titles = dict(self.suggestions)
        for buttons in self.buttons.values():
            titles.update({b["intent"]: b["title"] for b in buttons})
        return titles

    def suggestion_buttons(self, intents: list[str]) -> list[dict[str, str]]:
        return [
            {"title": self.suggestions[i], "payload": f"/{i}"}
            for i in intents
            if i in self.suggestions
        ]


def _translations(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(key): {str(lang): str(text) for lang, text in (by_language or {}).items()}
        for key, by_language in (raw.get("messages") or {}).items()
    }
