"""The one definition of every catalog name deid writes and reads: its classifications (tags) and its own
entity types. Everything else imports the names from here (the catalog's bootstrap typedefs,
`catalog/server/bootstrap/deid.json`, define the same names; tests/unit/test_tags.py checks they agree).

Entity-type classifications (`PERSON`, `EMAIL_ADDRESS`, `USER_ID`, …) are subtypes of `deid_PII` named after
Presidio's entity types, so they are not listed here.
"""

from __future__ import annotations

PII = "deid_PII"
"""Supertype of every personal-data classification (attributes confidence, source, status, evidence).
Prefixed so that a user's own `PII` classification (Atlas's samples define one) does not clash with it;
searches for `PII` still find deid's tags while the catalog has no type of that name (LEGACY_PII)."""
LEGACY_PII = "PII"
"""The supertype's name before the prefix: an alias in searches, renamed in stored catalogs by migration."""
NON_PII = "NON_PII"
"""The field holds no personal data (a steward's decision or inference's finding)."""
FREE_TEXT = "FREE_TEXT"
"""Free text with personal data inside; its `entities` say which (treated by anonymize_text)."""
EVENT_TIME = "EVENT_TIME"
"""A PII subtype of deid's own: the time an event happened, quasi-identifying (schema inference's structure)."""

DOMAIN_TYPE = "deid_domain"
"""A domain (event family): the whole `deid.domains.Domain` model, linked to its topics and purposes."""
POLICY_TYPE = "deid_policy"
"""A domain's policy: the draft and each published version."""
PIPELINE_TYPE = "deid_pipeline"
"""A domain's worker as an Atlas Process: raw topic in, anonymised (and purpose) topics out."""

TAGS = (PII, NON_PII, FREE_TEXT)
TYPES = (DOMAIN_TYPE, POLICY_TYPE, PIPELINE_TYPE)
