"""`profile`: customer profile events with a consent flag (`data_share_consent`) at a configurable ratio."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from producers.base import EventGenerator, PersonNames, days_between, epoch_seconds, uniform_picker

NAME_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL")
# Most profiles state male or female; some state neither.
GENDERS = ("female", "male", "non-binary", "unspecified")
GENDER_WEIGHTS = (48, 48, 2, 2)
BORN_FIRST, BORN_LAST = date(1940, 1, 1), date(2006, 12, 31)


class ProfileGenerator(EventGenerator):
    domain_name = "profile"

    def setup(self) -> None:
        rng = self.rng
        fake = self.faker("en_US")
        dob_format = self.date_format("dob")
        born = days_between(BORN_FIRST, BORN_LAST)
        names = [PersonNames(self.faker(locale), rng) for locale in NAME_LOCALES]
        people = []
        ssns: set[str] = set()
        for index in range(self.options.users):
            gender = rng.choices(GENDERS, GENDER_WEIGHTS)[0]
            name = names[index % len(names)].full(gender if gender in ("female", "male") else None)
            ssn = fake.ssn()
            while ssn in ssns:  # the subject field must identify one person
                ssn = fake.ssn()
            ssns.add(ssn)
            people.append((name, rng.choice(born).strftime(dob_format), gender, ssn))
        self.pick_person = uniform_picker(rng, people)
        self.ratio = self.options.consent_ratio
        self.time_format = self.date_format("evnt_time")
        self.first_second = epoch_seconds(date(2023, 1, 1))
        self.span_seconds = int(timedelta(days=730).total_seconds())

    def event(self) -> dict[str, Any]:
        rng = self.rng
        name, dob, gender, ssn = self.pick_person()
        return {
            "name": name,
            "dob": dob,
            "gender": gender,
            "ssn_no": ssn,
            "data_share_consent": rng.random() < self.ratio,
            "evnt_time": self._timestamp(self.first_second + rng.randrange(self.span_seconds)),
        }

    def _timestamp(self, seconds: float) -> str:
        return datetime.fromtimestamp(seconds, tz=UTC).strftime(self.time_format)
