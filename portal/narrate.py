"""Stored trails told in the viewer's language.

The workflow writes its events' and audit entries' details as short fixed sentences ("appeal 3 at
coordination: note", "to-do 172: edit form shows uscc") and a to-do's values as "column=masked value; …".
The portal reads them back through this module's patterns into catalogue messages; what a person typed (an
appeal's reason, a note) is shown as written. A detail no pattern knows is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from portal.i18n import MESSAGES, label, translate

Values = list[tuple[str, str, str]]  # (column, label, value shown)


def enum_value(lang: str, value: str) -> str:
    """A coded value of a source column (`enterprise`) in words; anything else as it is."""
    return translate(lang, f"enum.{value}") if f"enum.{value}" in MESSAGES else value


def columns(lang: str, text: str) -> str:
    """ "uscc, mer_type" as the columns' labels."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return (
        "、".join(label(lang, "col", p) for p in parts)
        if lang == "zh"
        else ", ".join(label(lang, "col", p) for p in parts)
    )


def masked_values(lang: str, stored: str | None) -> Values:
    """A to-do's "column=value; column=value" as (column, label, value), enum values in words."""
    found: Values = []
    for part in (stored or "").split("; "):
        column, sep, value = part.partition("=")
        if not sep:
            if part:
                found.append(("", "", part))
            continue
        found.append((column, label(lang, "col", column), enum_value(lang, value)))
    return found


def actor(lang: str, who: str | None, names: Mapping[str, str]) -> str:
    """A person by name (id second), or the system in words."""
    if not who:
        return ""
    if f"actor.{who}" in MESSAGES:
        return translate(lang, f"actor.{who}")
    name = names.get(who)
    return f"{name}（{who}）" if name and lang == "zh" else f"{name} ({who})" if name else who


def _changes(lang: str, text: str) -> str:
    """ "uscc: 9136…X → 9136…B; mcc: 5411 → 5412" with the columns' labels and coded values in words."""
    parts = []
    for part in text.split("; "):
        column, _, change = part.partition(": ")
        old, _, new = change.partition(" → ")
        parts.append(f"{label(lang, 'col', column)} {enum_value(lang, old)} → {enum_value(lang, new)}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _stage(lang: str, stage: str) -> str:
    return label(lang, "stage", stage)


def _with_note(lang: str, head: str, note: str | None) -> str:
    return head + ("：" if lang == "zh" else ": ") + note if note else head


Rule = tuple[re.Pattern[str], Callable[[str, re.Match[str]], str]]

_RULES: list[Rule] = [
    (
        re.compile(r"evidence (\d+) \((.*), (\d+) bytes\) on appeal (\d+)", re.S),
        lambda lang, m: translate(
            lang, "narrate.evidence_uploaded", id=m[1], file=m[2], size=m[3], appeal=m[4]
        ),
    ),
    (
        re.compile(r"evidence (\d+) \((.*)\) of appeal (\d+)", re.S),
        lambda lang, m: translate(lang, "narrate.evidence_downloaded", id=m[1], file=m[2], appeal=m[3]),
    ),
    (
        re.compile(r"appeal (\d+) at (coordination|arbitration)(?: \([^)]*\))?(?:: (.*))?", re.S),
        lambda lang, m: _with_note(
            lang, translate(lang, "narrate.appeal", id=m[1], stage=_stage(lang, m[2])), m[3]
        ),
    ),
    (
        re.compile(r"appeal (\d+) on to-do (\d+)"),
        lambda lang, m: translate(lang, "narrate.appeal_on", id=m[1], todo=m[2]),
    ),
    (
        re.compile(r"appeal (\d+) to arbitration"),
        lambda lang, m: translate(lang, "narrate.appeal", id=m[1], stage=_stage(lang, "arbitration")),
    ),
    (re.compile(r"appeal (\d+)"), lambda lang, m: translate(lang, "narrate.appeal_id", id=m[1])),
    (
        re.compile(r"exemption (\d+) \(appeal (\d+)\) until (\S+)"),
        lambda lang, m: translate(lang, "narrate.exemption", id=m[1], appeal=m[2], until=m[3]),
    ),
    (
        re.compile(r"correction (\d+) of to-do (\d+) \((update|outbox)\): (.*)"),
        lambda lang, m: translate(
            lang,
            "narrate.correction_written",
            id=m[1],
            todo=m[2],
            how=label(lang, "writeback", m[3]),
            columns=translate(lang, "narrate.no_change") if m[4] == "no change" else columns(lang, m[4]),
        ),
    ),
    (
        re.compile(r"correction (\d+): ((?:[a-z_]+: [^;]* → [^;]*(?:; )?)+)"),
        lambda lang, m: translate(lang, "narrate.correction", id=m[1], columns=_changes(lang, m[2])),
    ),
    (
        re.compile(r"correction (\d+): no change"),
        lambda lang, m: translate(
            lang, "narrate.correction", id=m[1], columns=translate(lang, "narrate.no_change")
        ),
    ),
    (
        re.compile(r"correction (\d+): (.*)"),
        lambda lang, m: translate(lang, "narrate.correction", id=m[1], columns=columns(lang, m[2])),
    ),
    (
        re.compile(r"correction (\d+) sent to the source system"),
        lambda lang, m: translate(lang, "narrate.correction_sent", id=m[1]),
    ),
    (
        re.compile(r"to-do (\d+): edit form shows (.*)"),
        lambda lang, m: translate(lang, "narrate.edit_form", id=m[1], columns=columns(lang, m[2])),
    ),
    (
        re.compile(r"to-do (\d+): (.*) fail (.*)"),
        lambda lang, m: translate(lang, "narrate.refused", id=m[1], columns=columns(lang, m[2]), rules=m[3]),
    ),
    (
        re.compile(r"to-dos (.+) handed to (\S+)"),
        lambda lang, m: translate(lang, "narrate.handover", todos=m[1], staff=m[2]),
    ),
    (
        re.compile(r"reminded (.+) about to-dos (.+)"),
        lambda lang, m: translate(lang, "narrate.nudge", people=m[1], todos=m[2]),
    ),
    (re.compile(r"to-do (\d+)"), lambda lang, m: translate(lang, "narrate.todo", id=m[1])),
    (
        re.compile(r"campaign (\d+) (.*)", re.S),
        lambda lang, m: translate(lang, "narrate.campaign", id=m[1], name=m[2]),
    ),
    (re.compile(r"run (\d+)"), lambda lang, m: translate(lang, "narrate.run", id=m[1])),
    (
        re.compile(r"check DAGs for (\S+)"),
        lambda lang, m: translate(lang, "narrate.check_dags", day=m[1]),
    ),
    (
        re.compile(r"summary xlsx (\S+) campaign (\d+)"),
        lambda lang, m: translate(lang, "narrate.summary_xlsx", day=m[1], campaign=m[2]),
    ),
    (re.compile(r"to-dos csv"), lambda lang, m: translate(lang, "narrate.todos_csv")),
    (re.compile(r"findings csv"), lambda lang, m: translate(lang, "narrate.findings_csv")),
    (re.compile(r"findings csv \(all\)"), lambda lang, m: translate(lang, "narrate.findings_csv_all")),
    (re.compile(r"audit csv.*"), lambda lang, m: translate(lang, "narrate.audit_csv")),
    (re.compile(r"password set; sessions ended"), lambda lang, m: translate(lang, "narrate.password_set")),
    (
        re.compile(r"wrong password \((\d+) in a row\)"),
        lambda lang, m: translate(lang, "narrate.wrong_password", n=m[1]),
    ),
    (re.compile(r"as of (\S+)"), lambda lang, m: translate(lang, "narrate.as_of", day=m[1])),
    (
        re.compile(r"(none|yellow|red) -> (none|yellow|red)"),
        lambda lang, m: translate(
            lang, "narrate.card", old=label(lang, "card", m[1]), new=label(lang, "card", m[2])
        ),
    ),
]


def detail(lang: str, stored: str | None) -> str:
    """An event's or audit entry's detail in `lang`, when it is one of the workflow's sentences."""
    if not stored:
        return ""
    for pattern, say in _RULES:
        found = pattern.fullmatch(stored)
        if found:
            return say(lang, found)
    return stored
