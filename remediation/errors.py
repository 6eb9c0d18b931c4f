"""Errors a user can act on. The CLI prints their message as one line, never a traceback."""


class DqgovError(Exception):
    """Base for errors whose message says what is wrong and where."""


class SourceError(DqgovError):
    """The source database cannot be reached or does not follow the contract."""


class StoreError(DqgovError):
    """The governance store cannot be reached or upgraded."""
