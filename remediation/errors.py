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
