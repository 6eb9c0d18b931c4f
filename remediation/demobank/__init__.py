"""The demo bank: a generated source database that follows the data contract, with known defects.

Valid records are drawn to look like a Jiangxi city commercial bank's books, including values that are
unusual but valid under the standard, so rules are tested against them:

- resident IDs whose check character is `X`, and IDs carrying the code of an abolished county (e.g. 360421)
- residence permits for Hong Kong, Macao and Taiwan residents (type 04, 810000 / 820000 / 830000, MOD 11-2)
- foreigner permanent residence cards: the 2023 format (type 05, 18 digits starting with 9, MOD 11-2)
  and the 2017 format (3 letters + 12 digits)
- Hong Kong / Macao passes (type 02: H or M + 8 or 10 digits), Taiwan passes (type 03), passports (type 06)
- `9999-12-31` (long term) in `licence_end`, `legal_rep_id_end` and `bo_id_end`; expiry exactly on the check date
- chain stores: several merchants sharing one USCC, registered name and settlement account, each with its
  own `mer_id`
- micro merchants without USCC, licence expiry, registered address or business scope
- USCC prefixes 91 and 93 for enterprise merchants; 12, 51/52/53 and N1/N2/N3 for public institutions,
  social organisations and rural collectives
- closed customers that share a USCC with an active one (E4 counts non-closed records only)
- landline phones with and without `-` (0792-8123456, 02081234567) next to mobile numbers
- legal representatives whose names contain `·` (阿卜杜拉·买买提) or are Latin letters with a space
- individual merchants settling to a personal card account (Luhn-valid, 16 or 19 digits)

Defects are injected into `spec.defect_rate` of the non-closed records (one, sometimes two per record) and
returned, and stored in `demo_injected_defect`, as the ground truth: one entry per failing clause, with the
column made wrong. Each makes exactly its clause fail on `spec.check_date`:

- E1 registered/customer name missing or one character (merchants with a personal settlement account only:
  the corporate account carries the registered name)
- E2 USCC missing, check character wrong, a lower-case letter, or 17 characters; E3 prefix against the type
- E4 a customer given the USCC of an earlier in-scope customer of the same type: both records are recorded
- E5 licence expiry missing or past; E6 establishment date missing, future or 1900-01-01; E7 capital missing/0
- E8 registered address missing or without its province; E9 business scope missing
- P1 digits or brackets in the legal rep's name; P2 ID type outside 01-06 (`1`, `身份证`, `07`, or missing); P3 ID number with a wrong check character, month 13, the
  wrong shape for its type (or missing); P4 ID expiry past (or missing); P5 beneficial owner incomplete/invalid
- M1 MCC not matching `mer_id` or not in ISO 18245; M2 business address without province; M3 abolished or
  city-level division code; M4 micro merchant settling to a corporate account; M5 account failing Luhn,
  too short or with separators; M6 account holder name differing
- C1 phone with 10 digits, a letter, a 12 prefix, +86 or a blank inside (or missing)
- G2 placeholder or padded trading name (`mer_biz_name`: no other clause covers it)
- G3 manager missing, unknown or no longer active (the routing gap is the defect)

Closed records (clause G1) get such values too, at the same rate, but they are not defects: nothing about
a closed record may raise a to-do, so none of them is in the ground truth.
"""

from remediation.demobank.clauses import CLAUSES_BY_TABLE, DEFAULT_CLAUSE_WEIGHTS
from remediation.demobank.generate import generate_demo_bank, injected_defect
from remediation.demobank.spec import DemoBankSpec, InjectedDefect

__all__ = [
    "CLAUSES_BY_TABLE",
    "DEFAULT_CLAUSE_WEIGHTS",
    "DemoBankSpec",
    "InjectedDefect",
    "generate_demo_bank",
    "injected_defect",
]
