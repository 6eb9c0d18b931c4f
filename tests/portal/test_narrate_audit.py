"""The audit log's correction entries, as the correction workflow writes them, told in each language."""

from __future__ import annotations

import pytest

from portal.narrate import detail


@pytest.mark.parametrize(
    ("stored", "zh", "en"),
    [
        (
            "correction 3 of to-do 17 (update): contact_phone",
            "更正 3（待办 17，直接写回源系统）：联系电话",
            "correction 3 of to-do 17 (written to the source): Contact phone",
        ),
        (
            "correction 4 of to-do 18 (outbox): legal_rep_id_no, legal_rep_id_type",
            "更正 4（待办 18，经更正队列提交源系统）：法定代表人证件号码、法定代表人证件类型",
            "correction 4 of to-do 18 (queued for the source system): Legal rep. ID number, Legal rep. ID type",
        ),
        (
            "correction 5 of to-do 19 (update): no change",
            "更正 5（待办 19，直接写回源系统）：无改动",
            "correction 5 of to-do 19 (written to the source): no change",
        ),
    ],
)
def test_a_correction_entry_reads_in_each_language(stored: str, zh: str, en: str) -> None:
    assert (detail("zh", stored), detail("en", stored)) == (zh, en)
