"""The governance store: its models (both modules register on one `Base`), engines, migrations and locks."""

from remediation.store import models, workflow_models

__all__ = ["models", "workflow_models"]
