"""Reference data the rules check against, read from the packages that ship it.

`reference_versions()` says which versions a run used; the check run records it.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version


@cache
def mcc_codes() -> frozenset[str]:
    """Every merchant category code of ISO 18245 (the iso18245 package)."""
    import iso18245

    return frozenset(m.mcc for m in iso18245.get_all_mccs())


def reference_versions() -> dict[str, str]:
    import iso18245

    return {
        "iso18245": f"{version('iso18245')} (ISO 18245:{iso18245.ISO_VERSION_YEAR})",
        "python-stdnum": version("python-stdnum"),
    }
