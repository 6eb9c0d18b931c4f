"""Errors a user can act on. The CLI prints their message as one line, never a traceback."""


class DqgovError(Exception):
    """Base for errors whose message says what is wrong and where.

    `code` (optional) names the message in the portal's catalogue (`error.<code>`), `params` fill it in,
    so the portal can say it in the user's language; the CLI prints the English message.
    """

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class SourceError(DqgovError):
    """The source database cannot be reached or does not follow the contract."""


class StoreError(DqgovError):
    """The governance store cannot be reached or upgraded."""


class NotFound(DqgovError):
    """A to-do, appeal, member of staff or source record that does not exist."""


class NotAllowed(DqgovError):
    """This person may not do this: not the assignee, not a head of the to-do's institution, …"""


class InvalidState(DqgovError):
    """Not in the current state: the to-do is closed, the appeal was decided already, …"""


class InvalidInput(DqgovError):
    """A reason, note or choice that is blank, too long or not one of the choices."""


class AmbiguousKey(DqgovError):
    """Two or more source rows share a record's key: none of them may be shown, corrected or re-checked as
    that record, or one account manager would see or change another's row."""

    def __init__(self, table: str, record_key: str, rows: int) -> None:
        self.table, self.record_key, self.rows = table, record_key, rows
        super().__init__(
            f"two source rows share key {record_key} of {table} ({rows} in all): none of them is shown or "
            "written back until the source system fixes it",
            code="ambiguous_key",
            table=table,
            record_key=record_key,
            rows=rows,
        )
