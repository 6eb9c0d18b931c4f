"""Every query is scoped by role, whatever the URL says: tampered ids answer 404, never someone else's data."""

from __future__ import annotations

from remediation.workflow.appeals import file_appeal
from tests.portal.conftest import BAD_PHONE, Portal, key

PHONE = "MER-C1-PHONE-FORMAT"


def test_an_account_manager_sees_only_their_own_todos(portal: Portal) -> None:
    bank = portal.bank
    client = portal.client()
    client.login("M101")
    listing = client.get("/todos?status=all")
    assert key(1) in listing.text and key(4) not in listing.text and key(5) not in listing.text
    assert client.get(f"/todos/{bank.todo_id(1, PHONE)}").status == 200
    for other in (bank.todo_id(4, PHONE), bank.todo_id(5, PHONE), 999_999):  # M102's, 110200's, none
        answer = client.get(f"/todos/{other}")
        assert answer.status == 404 and key(4) not in answer.text
    # asking for another person's list or institution shows nothing of theirs
    assert key(4) not in client.get("/todos?assignee=M102&status=all").text
    assert client.get("/todos?inst=110100").status == 404
    assert client.get("/dashboard").status == 403
    assert client.get("/office/runs").status == 403


def test_an_account_manager_cannot_act_on_another_persons_todo(portal: Portal) -> None:
    bank = portal.bank
    client = portal.client()
    client.login("M101")
    other = bank.todo_id(4, PHONE)
    assert client.post(f"/todos/{other}/correct", {"field_contact_phone": "13800138000"}).status == 404
    assert client.post(f"/todos/{other}/claim").status == 404
    assert client.post(f"/todos/{other}/appeal", {"reason": "不是我的"}).status == 404
    assert bank.todo_status(other) == "open"
    assert bank.source_value(4, "contact_phone") == BAD_PHONE


def test_a_sub_branch_head_sees_their_subtree_only(portal: Portal) -> None:
    bank = portal.bank
    client = portal.client()
    client.login("S101")  # 孙支行, head of 110100
    listing = client.get("/todos?status=all")
    assert key(1) in listing.text and key(4) in listing.text and key(5) not in listing.text
    assert client.get(f"/todos/{bank.todo_id(4, PHONE)}").status == 200
    assert client.get(f"/todos/{bank.todo_id(5, PHONE)}").status == 404  # 110200's
    assert client.get("/dashboard?inst=110200").status == 404
    assert client.get("/dashboard?inst=110000").status == 404  # above them
    assert client.get("/todos?inst=110200").status == 404
    summary = client.get("/summary")
    assert "赣江银行浔阳支行" in summary.text and "赣江银行濂溪支行" not in summary.text
    # a head may look, but only the assignee corrects
    assert (
        client.post(f"/todos/{bank.todo_id(4, PHONE)}/correct", {"field_contact_phone": "13800138000"}).status
        == 404
    )
    assert client.get("/office/campaigns").status == 403


def test_a_head_cannot_decide_an_appeal_outside_their_subtree(portal: Portal) -> None:
    bank = portal.bank
    appeal = file_appeal(bank.store, bank.todo_id(5, PHONE), "M201", "号码是客户的真实号码")
    client = portal.client()
    client.login("S101")
    assert client.post(f"/appeals/{appeal}/decide", {"decision": "accept"}).status == 404
    branch = portal.client()
    branch.login("B001")  # 钱分行, head of 110000 above both sub-branches
    assert "号码是客户的真实号码" in branch.get("/appeals").text
    assert branch.post(f"/appeals/{appeal}/decide", {"decision": "accept"}).status == 303
    assert bank.todo_status(bank.todo_id(5, PHONE)) == "exempted"


def test_the_data_office_sees_everything_and_the_branch_head_its_branch(portal: Portal) -> None:
    office = portal.client()
    office.login("D001")
    listing = office.get("/todos?status=all")
    assert all(key(s) in listing.text for s in (1, 4, 5))
    assert office.get("/dashboard?inst=110200").status == 200
    branch = portal.client()
    branch.login("B001")
    assert branch.get("/dashboard?inst=110200").status == 200
    assert branch.get("/dashboard?inst=100000").status == 404


def test_data_docs_paths_cannot_leave_their_folder(portal: Portal) -> None:
    folder = portal.bank.folder / "datadocs" / "1"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<html><head></head><body>docs</body></html>", encoding="utf-8")
    (portal.bank.folder / "datadocs" / "secret.html").write_text("secret", encoding="utf-8")
    office = portal.client()
    office.login("D001")
    assert office.get("/office/runs/1/docs/index.html").status == 200
    for path in (
        "/office/runs/1/docs/../secret.html",
        "/office/runs/1/docs/%2e%2e/secret.html",
        "/office/runs/1/docs/..%2Fsecret.html",
        "/office/runs/1/docs/dqgov.json",
    ):
        assert office.get(path).status == 404, path
    manager = portal.client()
    manager.login("M101")
    assert manager.get("/office/runs/1/docs/index.html").status == 403
