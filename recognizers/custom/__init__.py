"""deid's own recognizers: one small class per entity, registered by entity name.

Simple patterns (USER_ID) live as YAML in `recognizers/yaml/`; MAC_ADDRESS is Presidio's built-in.
Class names must differ from Presidio's: its registry finds predefined recognizers by class name among
all EntityRecognizer subclasses (a deid `PlPeselRecognizer` would be taken for Presidio's).
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from recognizers.custom.addresses import PostalAddressRecognizer
from recognizers.custom.calibrated import CalibratedNhsRecognizer
from recognizers.custom.cards import CustomCreditCardRecognizer, ImeiRecognizer, PaymentCardRecognizer
from recognizers.custom.names import PersonNameRecognizer
from recognizers.custom.national_ids import BsnRecognizer, NirRecognizer, PeselRecognizer, SteuerIdRecognizer
from recognizers.custom.nrp import NrpRecognizer
from recognizers.custom.offline import OfflineEmailRecognizer
from recognizers.custom.phone import EuPhoneRecognizer
from recognizers.custom.vat import EuVatRecognizer

CUSTOM_RECOGNIZERS: dict[str, type[EntityRecognizer]] = {
    cls.ENTITY: cls
    for cls in (
        CustomCreditCardRecognizer,
        ImeiRecognizer,
        EuVatRecognizer,
        SteuerIdRecognizer,
        NirRecognizer,
        BsnRecognizer,
        PeselRecognizer,
        PersonNameRecognizer,
        PostalAddressRecognizer,
        NrpRecognizer,
    )
}
"""Entity name -> recognizer class, added beside Presidio's built-ins."""

REPLACED_BUILTINS: dict[str, type[EntityRecognizer]] = {
    "PhoneRecognizer": EuPhoneRecognizer,
    "EmailRecognizer": OfflineEmailRecognizer,
    "NhsRecognizer": CalibratedNhsRecognizer,
    "CreditCardRecognizer": PaymentCardRecognizer,
}
"""Presidio built-in name -> the class deid uses instead (same entity: wider coverage, offline, or
a score that matches what its check proves)."""

__all__ = ["CUSTOM_RECOGNIZERS", "REPLACED_BUILTINS"]
