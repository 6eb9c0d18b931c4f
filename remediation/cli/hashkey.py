"""`dqgov hashkey show|rotate|adopt|new`: the key chain of the value hash (see remediation/store/hashkey.py)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer

hashkey_app = typer.Typer(
    help="The secret key of the value hash (HMAC) that binds exemptions.", no_args_is_help=True
)
StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]


def _store(store_url: str | None) -> sa.Engine:
    """The store, upgraded, without the key check that `open_store` does (these commands repair it)."""
    from remediation import settings
    from remediation.store.engines import create_engine, upgrade

    engine = create_engine(store_url or settings.get("DQGOV_STORE_URL"), "store")
    upgrade(engine)
    return engine


@hashkey_app.command("show")
def show(store_url: StoreOpt = None) -> None:
    """Where the key comes from, its key ids, and whether they are the store's."""
    from remediation.store.hashkey import HashKeyError, load_chain
    from remediation.store.hashstore import registered_ids

    store = _store(store_url)
    with store.connect() as conn:
        registered = registered_ids(conn)
    typer.echo(f"store:      key(s) {', '.join(registered) or 'none recorded'}")
    try:
        chain = load_chain()
    except HashKeyError as exc:
        typer.echo(f"this host:  {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"this host:  key(s) {', '.join(chain.ids)} from {chain.origin}")
    if chain.ids != registered:
        typer.echo("they differ: see `dqgov hashkey rotate` (to finish a rotation) or `adopt`")
        raise typer.Exit(1)


@hashkey_app.command("rotate")
def rotate_command(
    force: Annotated[
        bool, typer.Option("--force", help="Rotate even though check runs are listed as in flight.")
    ] = False,
    store_url: StoreOpt = None,
) -> None:
    """Add a new key and rewrite every stored value hash through it, in one transaction.

    Exemptions keep holding. With the key file, the key is appended to it; with DQGOV_HASH_KEY, add the new
    key to the setting first (`dqgov hashkey new`). Back up the key file afterwards.
    """
    from remediation.store.hashstore import rotate

    change = rotate(_store(store_url), force=force)
    typer.echo(
        f"value-hash key chain {', '.join(change.before) or 'none'} -> {', '.join(change.after)} "
        f"({change.origin}); {change.rewritten} stored hashes rewritten. Back up {change.origin} now."
    )


@hashkey_app.command("adopt")
def adopt_command(store_url: StoreOpt = None) -> None:
    """Make this host's key the store's when the old key is lost for good: every exemption lapses at the
    next run of its table (its to-do reopens)."""
    from remediation.store.hashstore import adopt

    change = adopt(_store(store_url))
    if change.before == change.after:
        typer.echo(f"the store already hashes with key(s) {', '.join(change.after)}: nothing to do")
        return
    typer.echo(
        f"the store now hashes with key(s) {', '.join(change.after)} ({change.origin}); "
        f"every exemption lapses at the next run"
    )


@hashkey_app.command("new")
def new_command() -> None:
    """Print a new random key (hex), to add at the end of DQGOV_HASH_KEY before `dqgov hashkey rotate`."""
    from remediation.store.hashkey import new_key_text

    typer.echo(new_key_text())


def register(app: typer.Typer) -> None:
    app.add_typer(hashkey_app, name="hashkey")
