"""deid's error hierarchy: the CLI turns these into one clear line on stderr and an exit code."""


class DeidError(Exception):
    """A failure the user can act on; the message says what went wrong and what to do."""

    exit_code = 1


class ConfigError(DeidError, ValueError):
    """A setting, config file or registry entry is wrong (exit code 2, like a usage error)."""

    exit_code = 2


class KafkaUnavailableError(DeidError):
    """The Kafka cluster could not be reached within the allowed time."""
