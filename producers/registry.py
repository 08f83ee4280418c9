"""The generators by domain name: `deid produce DOMAIN` looks its generator up here."""

from __future__ import annotations

from deid.domains import Domain
from deid.errors import ConfigError
from producers.base import EventGenerator, GeneratorOptions
from producers.channel import ChannelGenerator
from producers.clickstream import ClickstreamGenerator
from producers.memo import MemoGenerator
from producers.mobile import MobileGenerator
from producers.movie import MovieGenerator
from producers.profile import ProfileGenerator
from producers.website import WebsiteGenerator

GENERATORS: dict[str, type[EventGenerator]] = {}


def register(generator: type[EventGenerator]) -> type[EventGenerator]:
    """Add a generator class under its `domain_name` (usable as a class decorator)."""
    GENERATORS[generator.domain_name] = generator
    return generator


for _builtin in (
    ChannelGenerator,
    MovieGenerator,
    WebsiteGenerator,
    MobileGenerator,
    MemoGenerator,
    ProfileGenerator,
    ClickstreamGenerator,
):
    register(_builtin)


def generator_class(domain: Domain) -> type[EventGenerator]:
    """The generator registered for `domain`, or ConfigError naming the domains that have one."""
    try:
        return GENERATORS[domain.name]
    except KeyError:
        raise ConfigError(
            f"no event generator for domain {domain.name!r} (generators: {', '.join(sorted(GENERATORS))}); "
            "replay events from a file with --from-file"
        ) from None


def generator_for(domain: Domain, seed: int, options: GeneratorOptions | None = None) -> EventGenerator:
    """The seeded generator for `domain` (its value pools are drawn here, which takes up to a few seconds)."""
    return generator_class(domain)(domain, seed, options)
