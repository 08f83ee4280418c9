"""`mobile`: call detail records between subscribers whose numbers come in many national formats."""

from __future__ import annotations

from typing import Any

from producers.base import EventGenerator, pool, rendered_days, uniform_picker

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
        subscribers = list(dict.fromkeys(numbers))[: self.options.users]
        # People call a small circle of the same numbers again and again.
        circle = min(CONTACTS_PER_SUBSCRIBER, len(subscribers))
        self.pick_contact = {
            number: uniform_picker(
                self.rng, [n for n in self.rng.sample(subscribers, circle) if n != number] or [number]
            )
            for number in subscribers
        }
        self.pick_subscriber = uniform_picker(self.rng, subscribers)
        self.pick_call_type = uniform_picker(self.rng, CALL_TYPES)
        self.pick_day = uniform_picker(self.rng, rendered_days(self.date_format("starting_time")))

    def event(self) -> dict[str, Any]:
        caller = self.pick_subscriber()
        call_type = self.pick_call_type()
        duration = 0 if call_type == "sms" else max(1, int(self.rng.expovariate(1 / 180)))
        return {
            "a_party": caller,
            "b_party": self.pick_contact[caller](),
            "starting_time": self.pick_day(),
            "duration": duration,
            "call_type": call_type,
        }
