"""The secret key of the value hash: where it comes from, how it is made, and how a new one is added.

The value hash (`masking.value_hash`) binds an exemption to a record's values without storing them. A
plain digest of an ID number can be reversed by trying every number that fits its mask, so the hash is
keyed: HMAC-SHA-256, folded through a *key chain* `K1 … Kn` (oldest first),

    hash = HMAC(Kn, … HMAC(K2, HMAC(K1, sha256(canonical values))))

so adding a key rewrites a stored hash `h` into `HMAC(Knew, h)` without the raw values (rotation).

The chain comes from `DQGOV_HASH_KEY` (keys separated by commas, oldest first, each hex or base64 of at
least 32 bytes) or, when that is unset, from `DQGOV_HASH_KEY_FILE` (one key per line, in hex), which is
generated on first use: folder 0700, file 0600, written whole and linked into place, so two processes
starting at once end up with the same key. The file lives outside the store: a stolen store backup holds
no key. Each key has a public id (an HMAC of a fixed label) that the store records, to tell whether a
process hashes with the chain the store's hashes were made with (`remediation.store.hashstore`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import secrets
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from remediation import settings
from remediation.errors import DqgovError

KEY_BYTES = 32
_ID_LABEL = b"dqgov value-hash key id"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


class HashKeyError(DqgovError):
    """The hash key is missing, malformed, exposed, or not the one the store's hashes were made with."""


def key_id(key: bytes) -> str:
    """A public name for a key (it reveals nothing of the key)."""
    return hmac.new(key, _ID_LABEL, hashlib.sha256).hexdigest()[:16]


def fold(keys: Sequence[bytes], digest: bytes) -> bytes:
    """`digest` HMAC'd through every key of `keys` in order."""
    for key in keys:
        digest = hmac.digest(key, digest, "sha256")
    return digest


@dataclass(frozen=True)
class KeyChain:
    keys: tuple[bytes, ...]
    origin: str  # "DQGOV_HASH_KEY" or the key file's path

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(key_id(k) for k in self.keys)

    @property
    def from_setting(self) -> bool:
        return self.origin == "DQGOV_HASH_KEY"

    def hash(self, digest: bytes) -> str:
        return fold(self.keys, digest).hex()


def parse_key(text: str, where: str) -> bytes:
    """One key written in hex or base64 (hex is tried first); at least `KEY_BYTES` bytes."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if _HEX.fullmatch(text) else base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            key = base64.b64decode(text, altchars=b"-_", validate=True)  # the URL-safe alphabet
        except (binascii.Error, ValueError):
            raise HashKeyError(f"{where}: a hash key is hex or base64; this one is neither") from None
    if len(key) < KEY_BYTES:
        raise HashKeyError(f"{where}: a hash key needs at least {KEY_BYTES} bytes; this one has {len(key)}")
    return key


def key_file() -> Path:
    return Path(settings.get("DQGOV_HASH_KEY_FILE"))


def _read_file(path: Path) -> tuple[bytes, ...]:
    try:
        info = path.stat()
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise HashKeyError(f"cannot read the hash key file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise HashKeyError(f"hash key file {path} is not a key file (one hex key per line)") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise HashKeyError(
            f"hash key file {path} is open to other users (mode {stat.S_IMODE(info.st_mode):o}): chmod 600 {path}"
        )
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    keys = tuple(
        parse_key(line, f"{path} line {n}") for n, line in lines if line and not line.startswith("#")
    )
    if not keys:
        raise HashKeyError(f"hash key file {path} holds no key")
    return keys


def _file_text(keys: Sequence[bytes]) -> str:
    header = "# dqgov value-hash key chain, oldest first. Back it up; never edit or reorder it.\n"
    return header + "".join(k.hex() + "\n" for k in keys)


def _write_new(path: Path, keys: Sequence[bytes], replace: bool) -> None:
    """Write the file whole (0600) beside `path`, then link it into place (or replace the old one)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        with contextlib.suppress(OSError):
            folder.chmod(0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hash.key.")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(_file_text(keys))
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs stands
                os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def load_chain(create: bool = False) -> KeyChain:
    """The key chain this process hashes with (see the module docstring).

    `create`: generate the key file when it does not exist; otherwise its absence is an error.
    """
    configured = settings.get("DQGOV_HASH_KEY")
    if configured:
        keys = tuple(
            parse_key(part, f"DQGOV_HASH_KEY key {n}") for n, part in enumerate(configured.split(","), 1)
        )
        return KeyChain(keys, "DQGOV_HASH_KEY")
    path = key_file()
    if not path.exists():
        if not create:
            raise HashKeyError(
                f"hash key file {path} does not exist: restore it from the backup (or set DQGOV_HASH_KEY)"
            )
        try:
            _write_new(path, [secrets.token_bytes(KEY_BYTES)], replace=False)
        except OSError as exc:
            raise HashKeyError(f"cannot create the hash key file {path}: {exc.strerror}") from None
    return KeyChain(_read_file(path), str(path))


RECHECK_SECONDS = 1.0


@dataclass
class _Current:
    env: tuple[str | None, ...] = ()
    path: Path | None = None
    stamp: tuple[object, ...] = ()
    chain: KeyChain | None = None
    checked: float = -RECHECK_SECONDS


_current = _Current()


def current_chain() -> KeyChain:
    """`load_chain()`, read again when the settings or the key file changed (a rotation).

    Called once per staged finding: the file is looked at (a stat) at most once a second.
    """
    env = tuple(os.environ.get(n) for n in ("DQGOV_HASH_KEY", "DQGOV_HASH_KEY_FILE", "DQGOV_HOME"))
    moment = time.monotonic()
    c = _current
    if c.chain is not None and env == c.env and moment - c.checked < RECHECK_SECONDS:
        return c.chain
    if env != c.env or c.path is None:
        c.env, c.path, c.chain = env, key_file(), None
    try:
        info = c.path.stat()
        stamp: tuple[object, ...] = (info.st_ino, info.st_mtime_ns, info.st_size)
    except OSError:
        stamp = ()
    if c.chain is None or stamp != c.stamp:
        c.chain, c.stamp = load_chain(), stamp
    c.checked = moment
    return c.chain


def forget_current() -> None:
    """Read the key again at the next `current_chain()` (after this process changed it)."""
    _current.chain = None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """One rotation at a time on this key file (an advisory lock on a file beside it)."""
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_key(chain: KeyChain) -> KeyChain:
    """Add a new key at the end of the key file's chain (the file is replaced whole)."""
    if chain.from_setting:
        raise HashKeyError(
            "the hash key comes from DQGOV_HASH_KEY: add a new key at its end (`dqgov hashkey new` prints one) "
            "wherever it is set, then run `dqgov hashkey rotate` again"
        )
    keys = (*chain.keys, secrets.token_bytes(KEY_BYTES))
    path = Path(chain.origin)
    try:
        _write_new(path, keys, replace=True)
    except OSError as exc:
        raise HashKeyError(f"cannot write the hash key file {path}: {exc.strerror}") from None
    forget_current()
    return KeyChain(keys, chain.origin)


def new_key_text() -> str:
    return secrets.token_bytes(KEY_BYTES).hex()
