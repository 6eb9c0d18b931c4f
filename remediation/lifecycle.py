"""What a to-do's life is judged by: the remediation policy and the working-day calendar, passed in together.

Entry points (the CLI, the Airflow tasks, the portal) build it once with `Lifecycle.in_force()`; the code
below them receives it, so a test or a what-if can hand in another policy or calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediation.policy import Policy, current_policy
from remediation.workdays import WorkdayCalendar


@dataclass(frozen=True)
class Lifecycle:
    policy: Policy
    calendar: WorkdayCalendar

    @classmethod
    def in_force(cls) -> Lifecycle:
        """The policy file and the bank's calendar file the settings name."""
        return cls(current_policy(), WorkdayCalendar())
