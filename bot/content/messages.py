"""Clinic facts and vetted conversation messages, formatted with those facts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.content.answers import APPROVED, Guide, check_answer_specs, load_answer_specs, normalise
from bot.content.hours import OpeningHours


@dataclass(frozen=True)
class Messages:
    """Fixed, reviewed texts for everything that is not an FAQ answer."""

    clinic: dict[str, str]
    placeholders: tuple[str, ...]
    texts: dict[str, str]
    buttons: dict[str, list[dict[str, str]]]
    suggestions: dict[str, str]
    answer_buttons_by_intent: dict[str, str]
    # intent -> message key of a clinic message sent right after that answer ("what to do")
    answer_notes_by_intent: dict[str, str] = field(default_factory=dict)
    # message key -> language -> text (data/content/translations.yml)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    # When a person reads handoffs (clinic.yml ``opening_hours``); None: not configured.
    opening_hours: OpeningHours | None = None
    # clinic.yml ``handoff``: phone numbers without a country code, and human mode's end.
    phone_region: str = "US"
    human_mode_timeout: dt.timedelta = dt.timedelta(minutes=60)

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
            answer_notes_by_intent=raw.get("answer_notes") or {},
            translations=_translations(content_dir / "translations.yml"),
            opening_hours=(
                OpeningHours.from_config(clinic_raw["opening_hours"])
                if clinic_raw.get("opening_hours")
                else None
            ),
            **_handoff_settings(clinic_raw.get("handoff") or {}),
        )

    def text(self, key: str, **typed: str) -> str:
        """The message ``key`` with clinic facts filled in, and ``typed`` values (a name, a
        contact address, a reason: never medical text) for the keys in ``TYPED_PLACEHOLDERS``."""
        return self.texts[key].format(**self.clinic, **typed)

    def closed_note(self, at: dt.datetime) -> str | None:
        """When the clinic is closed at ``at``: when a person will read the handoff."""
        hours = self.opening_hours
        if hours is None or hours.is_open(at):
            return None
        opening = hours.describe(hours.next_opening(at), at)
        return self.texts["handoff_closed"].format(**self.clinic, next_opening=opening)

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
        texts = {self.text(key) for key in self.texts if key not in TYPED_PLACEHOLDERS}
        if self.opening_hours is not None:
            texts |= {
                self.texts["handoff_closed"].format(**self.clinic, next_opening=opening)
                for opening in self.opening_hours.possible_descriptions()
            }
        for key, by_language in self.translations.items():
            english_keys = [key] if key in self.texts else []
            if key == "language_notice":
                english_keys = ["handoff_language", "handoff_failed"]
            for language in by_language:
                texts |= {self.bilingual(key, language, e) for e in english_keys}
        return texts

    def button_list(self, key: str) -> list[dict[str, str]]:
        """Rasa buttons whose payload triggers the intent directly (``/intent{entities}``)."""
        return [
            {"title": b["title"], "payload": "/" + button_payload(b)}
            for b in self.buttons.get(key, [])
        ]

    def answer_buttons(self, intent: str) -> list[dict[str, str]]:
        """Buttons shown under the answer for ``intent`` (e.g. "I have these symptoms now")."""
        key = self.answer_buttons_by_intent.get(intent)
        return self.button_list(key) if key else []

    def answer_note(self, intent: str) -> str | None:
        """The clinic message sent after the answer for ``intent``, if any (filled in)."""
        key = self.answer_notes_by_intent.get(intent)
        return self.text(key) if key else None

    def payload_titles(self) -> dict[str, str]:
        """Button title by intent, to show a pressed button as the patient's words."""
        titles = dict(self.suggestions)
        for buttons in self.buttons.values():
            titles.update({button_payload(b): b["title"] for b in buttons})
        return titles

    def suggestion_buttons(self, intents: list[str]) -> list[dict[str, str]]:
        return [
            {"title": self.suggestions[i], "payload": f"/{i}"}
            for i in intents
            if i in self.suggestions
        ]


# Messages with a placeholder filled at send time rather than from clinic.yml.
TYPED_PLACEHOLDERS = {
    "handoff_closed": ("next_opening",),
    "contact_ask_consent": ("contact",),
    "contact_try_again": ("reason",),
    "contact_saved": ("contact_name", "contact"),
    "human_joined": ("staff_name",),
}


def _handoff_settings(raw: dict) -> dict:
    """clinic.yml ``handoff``; raises ``ValueError`` naming a bad value."""
    region = str(raw.get("phone_region", "US")).upper()
    if not (len(region) == 2 and region.isalpha()):
        raise ValueError(f"handoff.phone_region: not a two-letter region code: {region!r}")
    try:
        minutes = float(raw.get("human_mode_timeout_minutes", 60))
    except (TypeError, ValueError):
        minutes = -1.0
    if not 1 <= minutes <= 24 * 60:
        raise ValueError("handoff.human_mode_timeout_minutes: a number of minutes, 1 to 1440")
    return {"phone_region": region, "human_mode_timeout": dt.timedelta(minutes=minutes)}


def button_payload(button: dict) -> str:
    """``intent`` or ``intent{"entity": "value"}``: Rasa's syntax for a pressed button."""
    entities = button.get("entities")
    if not entities:
        return button["intent"]
    return button["intent"] + json.dumps(entities, separators=(",", ":"), sort_keys=True)


def _translations(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        str(key): {str(lang): str(text) for lang, text in (by_language or {}).items()}
        for key, by_language in (raw.get("messages") or {}).items()
    }


# --- the patient web page and its chat widget (data/content/widget.yml) ------------------------


@dataclass(frozen=True)
class PageBlock:
    """A sub-heading or a paragraph of the patient page. A paragraph is a vetted answer
    (``answer_id``, ``version``) or a passage resting on verbatim guide ``quotes``."""

    kind: str  # "subheading", "answer" or "passage"
    text: str
    section: str = ""  # the guide section(s) the paragraph comes from
    quotes: tuple[str, ...] = ()
    answer_id: str = ""
    version: int = 0


@dataclass(frozen=True)
class PageSection:
    anchor: str
    heading: str
    blocks: tuple[PageBlock, ...]


@dataclass(frozen=True)
class WebTexts:
    """The page's interface strings, its medical paragraphs (each with its guide source) and the
    strings widget.js reads, all from ``widget.yml`` and the approved answers."""

    page: dict[str, str]
    widget: dict[str, str]
    lead: PageBlock
    sections: tuple[PageSection, ...]

    @classmethod
    def load(cls, content_dir: Path) -> WebTexts:
        """Raises ``ValueError`` listing every problem: a quote not verbatim in the guide, an
        answer with no approved version, or answers.yml failing its own check."""
        guide = Guide.load(content_dir / "guide.txt")
        specs = load_answer_specs(content_dir / "answers.yml")
        approved = {s.answer_id: s for s in specs if s.status == APPROVED}
        problems = check_answer_specs(specs, guide)
        raw = yaml.safe_load((content_dir / "widget.yml").read_text(encoding="utf-8")) or {}
        page = raw.get("page") or {}

        def block(entry: dict, where: str) -> PageBlock:
            if "subheading" in entry:
                return PageBlock("subheading", normalise(str(entry["subheading"])))
            if "answer" in entry:
                spec = approved.get(str(entry["answer"]))
                if spec is None:
                    problems.append(f"{where}: no approved answer {entry['answer']!r}")
                    return PageBlock("answer", "")
                return PageBlock(
                    "answer", spec.text, spec.section, spec.quotes, spec.answer_id, spec.version
                )
            quotes = tuple(normalise(str(q)) for q in entry.get("quotes") or ())
            if not quotes or not entry.get("section") or not entry.get("text"):
                problems.append(f"{where}: a passage needs its text, guide quotes and section")
            problems.extend(
                f"{where}: quote not verbatim in guide: {q[:60]!r}"
                for q in quotes
                if not guide.contains(q)
            )
            return PageBlock(
                "passage",
                normalise(str(entry.get("text") or "")),
                str(entry.get("section") or ""),
                quotes,
            )

        lead = block(page.get("lead") or {}, "page lead")
        sections = tuple(
            PageSection(
                str(s["id"]),
                str(s["heading"]),
                tuple(block(b, f"page section {s['id']}") for b in s.get("blocks") or ()),
            )
            for s in page.get("sections") or ()
        )
        if problems:
            raise ValueError(
                f"{content_dir}: page content check failed:\n- " + "\n- ".join(problems)
            )
        return cls(
            page=_strings(page.get("strings")),
            widget=_strings(raw.get("widget")),
            lead=lead,
            sections=sections,
        )

    def paragraphs(self) -> list[PageBlock]:
        """Every medical paragraph of the page, the lead first."""
        return [self.lead] + [
            b for s in self.sections for b in s.blocks if b.kind in ("answer", "passage")
        ]


def _strings(raw: dict | None) -> dict[str, str]:
    """Texts with YAML line wrapping collapsed."""
    return {str(k): " ".join(str(v).split()) for k, v in (raw or {}).items()}
