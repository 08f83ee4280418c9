"""Presidio built-ins made safe to run offline.

Presidio's EmailRecognizer validates domains with `tldextract.extract`, whose default extractor fetches
the Public Suffix List over HTTPS on first use (and logs a ConnectionError traceback when it cannot),
and writes a cache under ~/.cache. This one uses the snapshot bundled with tldextract: no request, no
cache file.
"""

from __future__ import annotations

import tldextract
from presidio_analyzer.predefined_recognizers import EmailRecognizer

# suffix_list_urls=() disables fetching; cache_dir=None disables the on-disk cache.
OFFLINE_TLD_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class OfflineEmailRecognizer(EmailRecognizer):
    """EMAIL_ADDRESS, with the domain checked against tldextract's bundled public suffix snapshot."""

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language, name=type(self).__name__)

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD_EXTRACT(pattern_text).fqdn != ""
