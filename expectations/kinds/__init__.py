"""Check kinds: what a rule's `check:` names, compiled two ways.

Each kind gives the *failing* condition of a rule as a SQLAlchemy expression (run in the source
database, by Great Expectations and by the key extractor) and as a Python predicate over one record
(for corrections typed into the portal and for cross-checking the SQL). Both must agree.

One defect raises one to-do:
- Missing values (NULL, or nothing but blanks) fail only `required` and `active_staff`; every other kind
  passes them, so a required field pairs a `required` rule with its format rules.
- Text kinds judge a value without its leading/trailing blanks, and pass placeholder text (`无`, `***`,
  full-width digits, …): both are clause G2's findings, reported by the column's `text_quality` rule.
- Code lists (`in_set`, `allowed_for_type`) compare the stored value: a padded code is reported there.
- A kind that reads the type of its record (`id_number`, `settle_acct_no`, `uscc_prefix`) passes a type
  it does not know: the type's own rule reports that.
"""

from __future__ import annotations

from collections.abc import Mapping

from expectations.kinds.base import CheckContext, Kind, Peers
from expectations.kinds.codes import CODE_KINDS
from expectations.kinds.records import RECORD_KINDS, load_peers
from expectations.kinds.text import TEXT_KINDS
from expectations.kinds.values import VALUE_KINDS

KINDS: Mapping[str, Kind] = {**TEXT_KINDS, **CODE_KINDS, **VALUE_KINDS, **RECORD_KINDS}

__all__ = ["KINDS", "CheckContext", "Kind", "Peers", "load_peers"]
