"""`website`: website visits: a few very popular sites and a long tail of small ones."""

from __future__ import annotations

from typing import Any

from producers.base import EventGenerator, pool, rendered_days, uniform_picker, weighted_picker

POPULAR: tuple[tuple[str, str], ...] = (
    ("google.com", "search"),
    ("youtube.com", "video"),
    ("wikipedia.org", "reference"),
    ("amazon.de", "shopping"),
    ("bbc.co.uk", "news"),
    ("spiegel.de", "news"),
    ("lemonde.fr", "news"),
    ("elpais.com", "news"),
    ("corriere.it", "news"),
    ("nu.nl", "news"),
    ("onet.pl", "news"),
    ("zalando.de", "shopping"),
    ("bol.com", "shopping"),
    ("allegro.pl", "shopping"),
    ("booking.com", "travel"),
    ("ryanair.com", "travel"),
    ("netflix.com", "streaming"),
    ("spotify.com", "streaming"),
    ("facebook.com", "social"),
    ("instagram.com", "social"),
    ("linkedin.com", "social"),
    ("reddit.com", "forum"),
    ("github.com", "developer"),
    ("stackoverflow.com", "developer"),
    ("ing.nl", "banking"),
    ("bnpparibas.net", "banking"),
)
SITE_TYPES = ("blog", "shopping", "news", "forum", "travel", "banking", "sports", "recipes", "games", "education")
LONG_TAIL = 300


class WebsiteGenerator(EventGenerator):
    domain_name = "website"

    def setup(self) -> None:
        fake = self.faker("en_US")
        tail = [(name, self.rng.choice(SITE_TYPES)) for name in pool(LONG_TAIL, fake.domain_name)]
        self.pick_site = weighted_picker(self.rng, POPULAR + tuple(tail), skew=1.0, shuffle=False)
        self.pick_user = uniform_picker(self.rng, self.user_ids())
        self.pick_day = uniform_picker(self.rng, rendered_days(self.date_format("date")))

    def event(self) -> dict[str, Any]:
        site, kind = self.pick_site()
        return {"domain": site, "website_type": kind, "date": self.pick_day(), "user_id": self.pick_user()}
