"""The data office on a run's page: a run the volume guard stopped is shown with its comparison and can be
accepted; a mistaken run can be voided. Real server, both backends, Chinese and English."""

from __future__ import annotations

from typing import Any

import pytest

from portal.app import create_app
from remediation.checks.volume import VolumeGuardTripped
from remediation.orchestration.runnow import Trigger
from remediation.workflow.accounts import set_password
from tests.checkbank import PHONE, Bank, key
from tests.factories import CHECK_DATE
from tests.portal.conftest import PASSWORD, Client, FakeRunner, serve

DAY = CHECK_DATE.replace(day=CHECK_DATE.day + 1)


@pytest.fixture
def stopped(databases: Any, tmp_path: Any) -> tuple[Bank, int]:
    """A bank whose second run was stopped by the volume guard (5 of 36 merchants left)."""
    bank = Bank(databases)
    bank.run()
    for staff_id in ("D001", "M101", "B001"):
        set_password(bank.store, staff_id, PASSWORD)
    bank.delete_merchants(5)
    with pytest.raises(VolumeGuardTripped):
        bank.run(DAY)
    return bank, bank.last_run_id()


def portal(bank: Bank, tmp_path: Any) -> Any:
    app = create_app(
        bank.store,
        bank.source_url,
        today=lambda: DAY,
        trigger=Trigger(FakeRunner()),
        datadocs_root=tmp_path / "docs",
    )
    return serve(app)


def test_the_data_office_sees_a_stopped_run_and_accepts_the_drop(
    stopped: tuple[Bank, int], tmp_path: Any
) -> None:
    bank, run_id = stopped
    with portal(bank, tmp_path) as url:
        office = Client(url)
        office.login("D001")
        page = office.get(f"/office/runs/{run_id}").text
        assert "数据量骤降保护" in page and "本次运行未更改任何待办" in page and 'id="accept-drop"' in page
        assert ">36<" in page and ">5<" in page and "86.1%" in page
        assert "Volume guard" in office.get(f"/office/runs/{run_id}?lang=en").text
        office.get(f"/office/runs/{run_id}?lang=zh")
        refused = office.post(f"/office/runs/{run_id}/accept-drop", {})
        assert refused.status == 422 and "请先勾选确认" in refused.text
        assert bank.run_row(run_id).status == "failed"
        manager = Client(url)
        manager.login("M101")
        assert manager.post(f"/office/runs/{run_id}/accept-drop", {"confirm": "yes"}).status == 403
        done = office.post(f"/office/runs/{run_id}/accept-drop", {"confirm": "yes"})
        assert done.status == 303 and done.headers["location"] == f"/office/runs/{run_id}?msg=drop_accepted"
        assert bank.run_row(run_id).status == "reconciled"
        assert bank.statuses()[f"{key(10)}:{PHONE}"] == "gone"
        after = office.get(done.headers["location"]).text
        assert "已确认数据量变化" in after and "周数据 (D001)" in after and 'id="accept-drop"' not in after


def test_the_data_office_voids_the_newest_run_and_is_told_which_to_void_first(
    stopped: tuple[Bank, int], tmp_path: Any
) -> None:
    bank, stopped_run = stopped
    first = stopped_run - 1
    with portal(bank, tmp_path) as url:
        office = Client(url)
        office.login("D001")
        office.get(f"/office/runs/{stopped_run}")
        assert office.post(f"/office/runs/{stopped_run}/accept-drop", {"confirm": "yes"}).status == 303
        office.get(f"/office/runs/{first}")
        refused = office.post(f"/office/runs/{first}/void", {"reason": "试一试", "confirm": "yes"})
        assert refused.status == 409 and f"请先作废运行 {stopped_run}" in refused.text
        no_reason = office.post(f"/office/runs/{stopped_run}/void", {"reason": " ", "confirm": "yes"})
        assert no_reason.status == 422 and "请填写原因" in no_reason.text
        done = office.post(f"/office/runs/{stopped_run}/void", {"reason": "抽取错误", "confirm": "yes"})
        assert done.status == 303
        assert bank.run_row(stopped_run).status == "void"
        assert set(bank.statuses().values()) == {"open"}  # the gone ones are back
        assert "已作废" in office.get(f"/office/runs/{stopped_run}").text
