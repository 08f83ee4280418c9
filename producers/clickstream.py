"""`clickstream`: web sessions, several events per user seconds apart, each row with its consent level.

A handful of sessions are open at once and their events interleave, as they do on a real topic. The
consent level is the legal ground the row was collected under: mostly the user's standing choice, now and
then a different one for a session (the user changed the cookie banner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from producers.base import EventGenerator, PersonNames, ascii_slug, epoch_seconds, pool, uniform_picker

NAME_LOCALES = ("en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL")
OPEN_SESSIONS = 6
EVENTS_PER_SESSION = (3, 15)
SECONDS_BETWEEN_EVENTS = (0.4, 40.0)
SECONDS_BETWEEN_SESSIONS = 15.0
SITE = "https://shop.example.eu"
PAGES = ("/", "/deals", "/cart", "/checkout", "/account", "/help", "/search?q=shoes", "/search?q=headphones")
NEXT_EVENT = ("page_view", "page_view", "page_view", "click", "click", "search", "add_to_cart", "purchase")


@dataclass
class _User:
    user_id: str
    email: str
    devices: list[str]
    ip_address: str
    consent: int | str


@dataclass
class _Session:
    session_id: str
    user: _User
    device_id: str
    consent: int | str
    remaining: int
    clock: float
    started: bool = False


class ClickstreamGenerator(EventGenerator):
    domain_name = "clickstream"

    def setup(self) -> None:
        rng = self.rng
        consent = self.domain.consent
        if consent is None or consent.levels is None:
            raise ValueError("clickstream needs a consent field with levels in the domain registry")
        as_int = self.domain.fields[consent.field].type in ("int", "long")
        # Raw values as the registry maps them; weights favour the middle levels.
        self.consent_values = [int(raw) if as_int else raw for raw in consent.levels]
        self.consent_weights = [1 + min(level, 2) for level in consent.levels.values()]
        fake = self.faker("en_US")
        mail_domains = list(dict.fromkeys(pool(40, fake.free_email_domain)))
        products = [f"/products/{rng.randrange(10000, 99999)}" for _ in range(200)]
        self.pick_page = uniform_picker(rng, list(PAGES) + products)
        self.pick_next_event = uniform_picker(rng, NEXT_EVENT)
        names = [PersonNames(self.faker(locale), rng) for locale in NAME_LOCALES]
        self.users = []
        for index, user_id in enumerate(self.user_ids()):
            full_name = names[index % len(names)].full()
            self.users.append(
                _User(
                    user_id=user_id,
                    email=f"{ascii_slug(full_name)}{rng.randrange(100)}@{rng.choice(mail_domains)}",
                    devices=[f"{rng.getrandbits(64):016x}" for _ in range(rng.randint(1, 2))],
                    ip_address=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                    consent=self._consent(),
                )
            )
        self.time_format = self.date_format("ts")
        self.clock = epoch_seconds(date(2024, 1, 1)) + rng.randrange(86400 * 300)
        self.open: list[_Session] = [self._new_session() for _ in range(OPEN_SESSIONS)]

    def _consent(self) -> int | str:
        return self.rng.choices(self.consent_values, self.consent_weights)[0]

    def _new_session(self) -> _Session:
        rng = self.rng
        self.clock += rng.expovariate(1 / SECONDS_BETWEEN_SESSIONS)
        user = rng.choice(self.users)
        return _Session(
            session_id=f"{rng.getrandbits(96):024x}",
            user=user,
            device_id=rng.choice(user.devices),
            consent=user.consent if rng.random() < 0.95 else self._consent(),
            remaining=rng.randint(*EVENTS_PER_SESSION),
            clock=self.clock,
        )

    def event(self) -> dict[str, Any]:
        rng = self.rng
        slot = rng.randrange(OPEN_SESSIONS)
        session = self.open[slot]
        if session.started:
            session.clock += rng.uniform(*SECONDS_BETWEEN_EVENTS)
            event_type, page = self.pick_next_event(), self.pick_page()
        else:
            session.started = True
            event_type, page = "session_start", "/"
        session.remaining -= 1
        if session.remaining == 0:
            self.open[slot] = self._new_session()
        user = session.user
        return {
            "session_id": session.session_id,
            "user_id": user.user_id,
            "email": user.email,
            "event_type": event_type,
            "page_url": SITE + page,
            "ts": datetime.fromtimestamp(session.clock, tz=UTC).strftime(self.time_format),
            "ip_address": user.ip_address,
            "device_id": session.device_id,
            "consent_level": session.consent,
        }
