"""The remediation policy (`remediation/policy.yml`, or the file DQGOV_POLICY_FILE names), loaded and checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from remediation import settings
from remediation.errors import DqgovError

DEFAULT_POLICY = Path(__file__).resolve().parent / "policy.yml"
SEVERITIES = ("high", "medium", "low")
CHANNELS = ("email", "wecom", "inbox")


class PolicyError(DqgovError):
    """The policy file is unusable; the message names the file and the field."""


@dataclass(frozen=True)
class Policy:
    due_working_days: Mapping[str, int]
    rule_due_working_days: Mapping[str, int]
    remind_working_days_before_due: int
    red_after_overdue_working_days: int
    escalate_red_to_head: bool
    exemption_days: int
    severity_weights: Mapping[str, float]
    score_weights: Mapping[str, float]
    channels: tuple[str, ...]
    top_items: int
    max_attempts: int
    backoff_seconds: int
    volume_max_drop: float = 0.2  # the volume guard stops a run with this share fewer records in scope
    volume_min_records: int = 20  # a table, or an institution on its own, is judged from this many up

    def due_days(self, rule_id: str, severity: str) -> int:
        return self.rule_due_working_days.get(rule_id, self.due_working_days[severity])


def _get(raw: Mapping[str, Any], path: str, where: Path) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise PolicyError(f"{where}: '{path}' is missing")
        node = node[part]
    return node


def _count(raw: Mapping[str, Any], path: str, where: Path) -> int:
    value = _get(raw, path, where)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{where}: '{path}' must be a whole number ≥ 0, got {value!r}")
    return value


def _numbers(raw: Mapping[str, Any], path: str, where: Path, keys: tuple[str, ...]) -> dict[str, float]:
    value = _get(raw, path, where)
    if not isinstance(value, Mapping) or set(value) != set(keys):
        raise PolicyError(f"{where}: '{path}' must give exactly {', '.join(keys)}")
    for key, number in value.items():
        if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
            raise PolicyError(f"{where}: '{path}.{key}' must be a number ≥ 0, got {number!r}")
    return {k: float(v) for k, v in value.items()}


def load_policy(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{path}: must be a mapping with sla, exemption, scoring and notifications")
    due = {k: int(v) for k, v in _numbers(raw, "sla.due_working_days", path, SEVERITIES).items()}
    overrides = _get(raw, "sla.rule_due_working_days", path) or {}
    if not isinstance(overrides, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in overrides.values()
    ):
        raise PolicyError(f"{path}: 'sla.rule_due_working_days' must map rule ids to whole numbers ≥ 0")
    weights = _numbers(raw, "scoring.weights", path, ("completion", "new_record_quality", "overdue"))
    if abs(sum(weights.values()) - 1.0) > 1e-9:
        raise PolicyError(
            f"{path}: 'scoring.weights' must add up to 1, they add up to {sum(weights.values())}"
        )
    channels = _get(raw, "notifications.channels", path)
    if not isinstance(channels, list) or not set(channels) <= set(CHANNELS):
        raise PolicyError(f"{path}: 'notifications.channels' must be a list drawn from {', '.join(CHANNELS)}")
    escalate = _get(raw, "sla.escalate_red_to_head", path)
    if not isinstance(escalate, bool):
        raise PolicyError(f"{path}: 'sla.escalate_red_to_head' must be true or false")
    guard = raw.get("volume_guard") or {}
    if not isinstance(guard, Mapping):
        raise PolicyError(f"{path}: 'volume_guard' must be a mapping with max_drop and min_records")
    max_drop = guard.get("max_drop", 0.2)
    if not isinstance(max_drop, int | float) or isinstance(max_drop, bool) or not 0 < max_drop <= 1:
        raise PolicyError(f"{path}: 'volume_guard.max_drop' must be a share in (0, 1], got {max_drop!r}")
    min_records = guard.get("min_records", 20)
    if not isinstance(min_records, int) or isinstance(min_records, bool) or min_records < 1:
        raise PolicyError(
            f"{path}: 'volume_guard.min_records' must be a whole number ≥ 1, got {min_records!r}"
        )
    return Policy(
        volume_max_drop=float(max_drop),
        volume_min_records=min_records,
        due_working_days=due,
        rule_due_working_days={str(k): int(v) for k, v in overrides.items()},
        remind_working_days_before_due=_count(raw, "sla.remind_working_days_before_due", path),
        red_after_overdue_working_days=_count(raw, "sla.red_after_overdue_working_days", path),
        escalate_red_to_head=escalate,
        exemption_days=_count(raw, "exemption.default_days", path),
        severity_weights=_numbers(raw, "scoring.severity_weights", path, SEVERITIES),
        score_weights=weights,
        channels=tuple(channels),
        top_items=_count(raw, "notifications.top_items", path),
        max_attempts=_count(raw, "notifications.max_attempts", path),
        backoff_seconds=_count(raw, "notifications.backoff_seconds", path),
    )


@cache
def _cached(path: str, mtime: float) -> Policy:
    return load_policy(Path(path))


def current_policy() -> Policy:
    """The policy in force: DQGOV_POLICY_FILE, or the packaged default."""
    path = Path(settings.get("DQGOV_POLICY_FILE") or DEFAULT_POLICY)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        raise PolicyError(f"policy file {path} does not exist (DQGOV_POLICY_FILE)") from None
    return _cached(str(path), mtime)
