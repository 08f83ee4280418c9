"""The one settings object: environment (`DEID_*`) over an optional YAML config file over defaults.

Every error names the variable (or config-file key) that is wrong and what was expected, and never
echoes a value that could be a secret.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from deid.errors import ConfigError

ENV_PREFIX = "DEID_"
CONFIG_ENV = "DEID_CONFIG"

_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")
_NLP_ENGINE = re.compile(r"^(auto|deid|blank|spacy:\S+)$")
_KAFKA_PROPERTY = re.compile(r"^[a-z][a-z0-9]*([._-][a-z0-9]+)*$")
# Set by the client factory from the settings themselves; a config file must not fight them.
_RESERVED_KAFKA_PROPERTIES = {"bootstrap.servers"}
# Whose values must never appear in an error message.
_SECRET_FIELDS = {
    "catalog_url",
    "schema_registry_url",
    "kafka_properties",
    "kafka_properties_out",
    "master_key",
    "catalog_db",
    "keystore_url",
    "catalog_password",
    "admin_password",
    "s3_secret_key",
}
_FERNET_KEY = re.compile(r"^[A-Za-z0-9_-]{43}=$")


class SettingsError(ConfigError):
    """A setting is wrong; the message names it and says what was expected."""


def parse_bootstrap(value: str) -> list[tuple[str, int]]:
    """Split `host:port[,host:port…]`, raising ValueError with the expected form."""
    servers = []
    for part in value.split(","):
        match = _HOST_PORT.match(part.strip())
        if not match or not 0 < int(match.group(2)) < 65536:
            raise ValueError("expected host:port[,host:port…] with ports 1-65535")
        servers.append((match.group(1).strip("[]"), int(match.group(2))))
    return servers


class _YamlConfigSource(PydanticBaseSettingsSource):
    """Reads the YAML file named by DEID_CONFIG (keys are the setting names in lower case)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.data = load_config_file(path) if path else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


def load_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"{CONFIG_ENV}: config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SettingsError(f"{CONFIG_ENV}: config file {path} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{CONFIG_ENV}: config file {path} must hold a mapping of settings")
    return data


class Settings(BaseSettings):
    """deid's configuration. Field `x` is read from `DEID_X` or key `x` of the config file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)
    _config_file: str | None = PrivateAttr(default=None)

    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Raw-side Kafka bootstrap servers")
    kafka_bootstrap_out: str | None = Field(
        None, description="Anonymised-side Kafka bootstrap servers (default: the raw side)"
    )
    catalog_url: str = Field("http://127.0.0.1:21000", description="Catalog service base URL")
    schema_registry_url: str | None = Field(None, description="Schema Registry URL (default: the catalog's /registry)")
    catalog_db: str | None = Field(
        None,
        description="Catalog database as an SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db "
        "(default: SQLite file <data_dir>/catalog/catalog.db)",
    )
    catalog_mode: Literal["embedded", "production"] = Field(
        "embedded",
        description="embedded: first start creates user admin with a generated password in "
        "<data_dir>/catalog/admin-password; production: no default password, DEID_ADMIN_PASSWORD or "
        "`deid catalog user add` must set one",
    )
    catalog_max_request_mb: int = Field(
        64, ge=1, le=4096, description="Largest request body the catalog accepts, in MiB (larger: 413)"
    )
    catalog_user: str | None = Field(None, description="User the catalog client authenticates as (default: admin)")
    catalog_password: SecretStr | None = Field(
        None, description="Password of DEID_CATALOG_USER (default: the embedded admin's password file)"
    )
    admin_password: SecretStr | None = Field(
        None, description="Password given to the catalog's admin user when the catalog first starts"
    )
    data_dir: Path = Field(Path(".deid"), description="Where local state, logs and installs live")
    cluster: str = Field("eu", description="Cluster name used in catalog qualifiedNames (<topic>@<cluster>)")
    kafka_home: Path | None = Field(None, description="Installed Kafka jars (default: <data_dir>/kafka)")
    kafka_controller_port: int = Field(9093, ge=1, le=65535, description="KRaft controller port of the embedded broker")
    kafka_version: str | None = Field(
        None, description="Kafka version scripts/install-kafka installs (default: scripts/kafka-pom.xml)"
    )
    kafka_heap: str = Field("1g", description="Max JVM heap of the embedded broker (-Xmx)")
    spark_master: str = Field("local[*]", description="Spark master for inference: local[N] or spark://host:port")
    spark_driver_host: str | None = Field(
        None,
        description="Address executors reach the inference driver at, for a spark:// cluster on other hosts "
        "(e.g. the compose service name); default: loopback only",
    )
    spark_jars_dir: Path | None = Field(
        None, description="Spark Kafka connector jars (default: <data_dir>/spark-jars, see scripts/install-spark-kafka)"
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING, ERROR")
    master_key: SecretStr | None = Field(
        None, description="Master key wrapping the keystore's data keys (Fernet key; comma-separated: first wraps)"
    )
    master_key_file: Path | None = Field(
        None, description="File holding the master key, outside any repository (instead of DEID_MASTER_KEY)"
    )
    keystore_url: str | None = Field(
        None,
        description="Keystore database as an SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db, shared by "
        "every worker host (default: SQLite file <data_dir>/keys/keystore.db); it only ever holds wrapped keys",
    )
    # Config-file only: extra librdkafka properties (security.protocol, sasl.*, ssl.*, …).
    kafka_properties: dict[str, str] = Field(default_factory=dict)
    kafka_properties_out: dict[str, str] = Field(
        default_factory=dict, description="Overrides for the anonymised side only"
    )
    # Config-file only: domains merged over the built-in registry by name.
    domains: dict[str, Any] = Field(default_factory=dict)
    # Regions (deid/regions.py): where the raw Kafka cluster and the anonymised one sit.
    region: str = Field("eu", pattern=r"^[a-z][a-z0-9-]{0,31}$", description="Region of the raw-side Kafka cluster")
    region_out: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{0,31}$", description="Region of the anonymised-side cluster (default: region)"
    )
    # Config-file (or JSON in the environment): bucket prefixes and folders with their region and side.
    storage_locations: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Storage locations: [{name, uri: s3a://bucket/prefix/, region, side: raw|anonymised, endpoint}]",
    )
    s3_access_key: str | None = Field(None, description="Access key of the S3-compatible storage (batch runs)")
    s3_secret_key: SecretStr | None = Field(None, description="Secret key of the S3-compatible storage")
    nlp_engine: str = Field(
        "auto",
        description="NLP engine for names/places: auto, spacy:<installed model or path>, deid (offline model), blank",
    )
    text_processes: int = Field(
        1,
        ge=1,
        le=16,
        description="Processes that analyse a worker's anonymize_text batches: 1 = the worker alone, N = the worker "
        "plus N-1 helper processes (spawned at start, each loading its own NLP model)",
    )
    recognizer_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Extra folders of Presidio recognizer YAML files (env: separated by the OS path separator)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get(CONFIG_ENV)
        return init_settings, env_settings, _YamlConfigSource(settings_cls, Path(config) if config else None)

    @field_validator("kafka_bootstrap", "kafka_bootstrap_out")
    @classmethod
    def _check_bootstrap(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bootstrap(value)
        return value

    @field_validator("catalog_url", "schema_registry_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("catalog_db", "keystore_url")
    @classmethod
    def _check_catalog_db(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError("expected an SQLAlchemy URL starting with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("catalog_user")
    @classmethod
    def _check_catalog_user(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}", value):
            raise ValueError("expected a user name: letters, digits, '.', '_', '@' or '-'")
        return value

    @field_validator("cluster")
    @classmethod
    def _check_cluster(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", value):
            raise ValueError("expected a short lower-case name: letters, digits, '-' or '_'")
        return value

    @field_validator("master_key")
    @classmethod
    def _check_master_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = [p.strip() for p in value.get_secret_value().split(",")]
            if not all(_FERNET_KEY.match(p) for p in parts):
                raise ValueError(
                    "expected a Fernet key (44 url-safe base64 characters) or several separated by commas; "
                    "`deid keys new-master-key PATH` makes one"
                )
        return value

    @field_validator("kafka_heap")
    @classmethod
    def _check_heap(cls, value: str) -> str:
        if not re.fullmatch(r"\d+[mMgG]", value):
            raise ValueError("expected a JVM size such as 512m or 1g")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()

    @field_validator("nlp_engine")
    @classmethod
    def _check_nlp_engine(cls, value: str) -> str:
        if not _NLP_ENGINE.match(value.strip()):
            raise ValueError("expected auto, deid, blank or spacy:<model name or path>")
        return value.strip()

    @field_validator("recognizer_dirs", mode="before")
    @classmethod
    def _split_recognizer_dirs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in value.split(os.pathsep) if part.strip()]
        return value

    @field_validator("kafka_properties", "kafka_properties_out", mode="before")
    @classmethod
    def _check_kafka_properties(cls, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of Kafka client property names to values")
        checked = {}
        for key, item in value.items():
            if not isinstance(key, str) or not _KAFKA_PROPERTY.match(key):
                raise ValueError(f"property {key!r} is not a Kafka client property name")
            if key in _RESERVED_KAFKA_PROPERTIES:
                raise ValueError(f"property {key!r} is set from kafka_bootstrap/kafka_bootstrap_out")
            if isinstance(item, dict | list) or item is None:
                raise ValueError(f"property {key!r} needs a scalar value")
            checked[key] = str(item).lower() if isinstance(item, bool) else str(item)
        return checked

    @model_validator(mode="after")
    def _resolve_defaults(self) -> Settings:
        self._config_file = os.environ.get(CONFIG_ENV)  # the file the YAML source read, at the same moment
        if self.kafka_home is None:
            self.kafka_home = self.data_dir / "kafka"
        if self.spark_jars_dir is None:
            self.spark_jars_dir = self.data_dir / "spark-jars"
        return self

    @property
    def config_source(self) -> str:
        """Where config-file keys (e.g. `domains:`) come from, for messages: the DEID_CONFIG file."""
        return self._config_file or "config file"

    @property
    def bootstrap_out(self) -> str:
        return self.kafka_bootstrap_out or self.kafka_bootstrap

    @property
    def catalog_dir(self) -> Path:
        """The embedded catalog's state: SQLite file, admin password file, pid and log."""
        return self.data_dir / "catalog"

    @property
    def catalog_db_url(self) -> str:
        return self.catalog_db or f"sqlite:///{(self.catalog_dir / 'catalog.db').resolve()}"

    @property
    def admin_password_file(self) -> Path:
        return self.catalog_dir / "admin-password"

    @property
    def registry_url(self) -> str:
        return self.schema_registry_url or f"{self.catalog_url}/registry"

    @property
    def kafka_install_dir(self) -> Path:
        assert self.kafka_home is not None  # resolved by the validator
        return self.kafka_home

    @property
    def embedded_broker_address(self) -> tuple[str, int]:
        """Where `deid stack up` listens: the first raw-side bootstrap server."""
        return parse_bootstrap(self.kafka_bootstrap)[0]


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _unknown_env_vars() -> list[str]:
    known = {_env_name(name) for name in Settings.model_fields} | {CONFIG_ENV}
    return sorted(name for name in os.environ if name.startswith(ENV_PREFIX) and name not in known)


def _describe(error: dict[str, Any], from_env: set[str]) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        known = difflib.get_close_matches(field, Settings.model_fields, n=1)
        hint = f" (did you mean {known[0]!r}?)" if known else ""
        return f"{CONFIG_ENV}: unknown key {field!r} in config file{hint}"
    where = _env_name(field) if _env_name(field) in from_env else f"{CONFIG_ENV} key {field!r}"
    message = error["msg"].removeprefix("Value error, ")
    if field not in _SECRET_FIELDS and error.get("input") is not None and error["type"] != "missing":
        message += f" (got {error['input']!r})"
    return f"{where}: {message}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings or raise SettingsError naming every wrong variable."""
    unknown = _unknown_env_vars()
    if unknown:
        known_names = [_env_name(n) for n in Settings.model_fields]
        names = ", ".join(
            name + (f" (did you mean {m[0]}?)" if (m := difflib.get_close_matches(name, known_names, 1)) else "")
            for name in unknown
        )
        valid = ", ".join(sorted(_env_name(n) for n in Settings.model_fields if n not in {"domains"}))
        raise SettingsError(f"unknown setting(s) {names}; known variables: {valid}, {CONFIG_ENV}")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        from_env = {name for name in os.environ if name.startswith(ENV_PREFIX)}
        problems = [_describe(err, from_env) for err in exc.errors(include_url=False)]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None
