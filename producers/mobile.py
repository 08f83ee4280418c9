"""`mobile`: call detail records between subscribers whose numbers come in many national formats."""

from __future__ import annotations

from typing import Any

from producers.base import EventGenerator, pool, rendered_days

# Faker's national phone formats differ widely (+49(0)…, 05 45 23 28 60, (0114) 4960907, 298.925.9791, …).
PHONE_LOCALES = ("de_DE", "fr_FR", "en_GB", "it_IT", "es_ES", "nl_NL", "pl_PL", "en_US")
CALL_TYPES = ("voice", "voice", "voice", "voice", "sms", "sms", "video", "voicemail", "roaming")
CONTACTS_PER_SUBSCRIBER = 12


class MobileGenerator(EventGenerator):
    domain_name = "mobile"

    def setup(self) -> None:
        per_locale = self.options.users // len(PHONE_LOCALES) + 1
        numbers: list[str] = []
        for locale in PHONE_LOCALES:
            fake = self.faker(locale)
            # Extensions ("x232") do not make a calling number.
            numbers += [n for n in pool(per_locale, fake.phone_number) if "x" not in n]
        self.subscribers = list(dict.fromkeys(numbers))[: self.options.users]
        # People call a small circle of the same numbers again and again.
        self.contacts = {
            number: self.rng.sample(self.subscribers, min(CONTACTS_PER_SUBSCRIBER, len(self.subscribers)))
            for number in self.subscribers
        }
        self.days = rendered_days(self.date_format("starting_time"))

    def event(self) -> dict[str, Any]:
        rng = self.rng
        caller = rng.choice(self.subscribers)
        call_type = rng.choice(CALL_TYPES)
        duration = 0 if call_type == "sms" else max(1, int(rng.expovariate(1 / 180)))
        return {
            "a_party": caller,
            "b_party": rng.choice(self.contacts[caller]),
            "starting_time": rng.choice(self.days),
            "duration": duration,
            "call_type": call_type,
        }
