"""`dqgov user set-password`, and the demo logins `dqgov demo` prints."""

from __future__ import annotations

import secrets
from typing import Annotated

import sqlalchemy as sa
import typer

from remediation import settings

POSITION_NAMES = {
    "account_manager": "客户经理 account manager",
    "sub_branch_head": "支行负责人 sub-branch head",
    "branch_head": "分行负责人 branch head",
    "data_office": "数据管理部门 data office",
}

user_app = typer.Typer(help="Portal logins.", no_args_is_help=True)


@user_app.command("set-password")
def set_password_command(
    staff_id: Annotated[
        str, typer.Argument(help="Employee number (工号) of a member of staff in the store.")
    ],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters."),
    ],
    store_url: Annotated[
        str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
    ] = None,
) -> None:
    """Create a portal login for a member of staff, or give it a new password (which also unlocks it)."""
    from remediation.store.engines import open_store
    from remediation.workflow.accounts import set_password
    from remediation.workflow.audit import cli_client

    set_password(open_store(store_url), staff_id, password, client=cli_client())
    typer.echo(f"password set for {staff_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def print_demo_logins(store: sa.Engine) -> None:
    """Create the demo logins (one per role) and print them with their password."""
    from remediation.workflow.accounts import ensure_demo_users
    from remediation.workflow.audit import cli_client

    password = settings.get("DQGOV_DEMO_PASSWORD") or secrets.token_urlsafe(9)
    logins = ensure_demo_users(store, password, client=cli_client())
    port = settings.get("DQGOV_PORTAL_PORT")
    typer.echo(f"\n门户登录 portal logins (http://127.0.0.1:{port}, password 密码: {password})")
    for login in logins:
        typer.echo(
            f"  {login.staff_id:10} {login.staff_name:6} {POSITION_NAMES[login.position]:28} {login.inst_name}"
        )
