"""The registry's rules, between the HTTP layer and the store: what Confluent's server does for each call.

Every failure is a `RegistryError` carrying Confluent's status, error code and message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.registry import errors
from catalog.registry.avro_schema import AvroSchema, InvalidSchemaError
from catalog.registry.compatibility import DEFAULT_LEVEL, CompatibilityLevel, PreviousVersion, check_compatibility
from catalog.registry.store import IncompatibleSchema, Registration, RegistryStore, StoredSchema, SubjectVersion

SUPPORTED_TYPES = ("AVRO",)
_MAX_VERSION = 2**31 - 1


def parse_version(text: str) -> int | None:
    """A version path segment: a number in [1, 2^31-1], or `latest` / `-1` (→ None); else 42202."""
    value = text.strip().lower()
    if value in ("latest", "-1"):
        return None
    if value.isascii() and value.isdigit() and 1 <= int(value) <= _MAX_VERSION:
        return int(value)
    raise errors.invalid_version(text)


def subject_topic(subject: str) -> tuple[str, str] | None:
    """(topic, "key"|"value") for a subject named by Confluent's default TopicNameStrategy, else None."""
    for part in ("value", "key"):
        topic = subject.removesuffix(f"-{part}")
        if topic != subject and topic:
            return topic, part
    return None


def parse_schema_request(body: Any) -> AvroSchema:
    """The schema of a register/lookup/compatibility request body; 42201 when it is not a valid Avro schema."""
    if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
        raise errors.invalid_schema("the request body needs a 'schema' string")
    schema_type = body.get("schemaType") or "AVRO"
    if not isinstance(schema_type, str) or schema_type.upper() not in SUPPORTED_TYPES:
        raise errors.invalid_schema(f"schema type {schema_type!r} is not supported; this registry serves AVRO")
    if body.get("references"):
        raise errors.invalid_schema("schema references are not supported; define the named types inline")
    try:
        return AvroSchema.parse(body["schema"])
    except InvalidSchemaError as exc:
        raise errors.invalid_schema(str(exc)) from None


def _previous(versions: Sequence[SubjectVersion]) -> list[PreviousVersion]:
    return [PreviousVersion(v.version, AvroSchema.parse(v.schema)) for v in versions]


class SchemaRegistry:
    """Confluent Schema Registry semantics over a `RegistryStore`."""

    def __init__(self, store: RegistryStore) -> None:
        self.store = store

    # --- subjects and versions ---------------------------------------------------------------------

    def register(self, subject: str, schema: AvroSchema) -> Registration:
        level = self.effective_level(subject)

        def gate(live: Sequence[SubjectVersion]) -> list[str]:
            return check_compatibility(level, schema, _previous(live))

        try:
            return self.store.register(subject, schema, gate)
        except IncompatibleSchema as exc:
            raise errors.incompatible_schema(subject, exc.messages) from None

    def lookup(self, subject: str, schema: AvroSchema, *, deleted: bool = False) -> SubjectVersion:
        if not self.store.versions(subject, deleted=deleted):
            raise errors.subject_not_found(subject)
        found = self.store.find(subject, schema, deleted=deleted)
        if found is None:
            raise errors.schema_not_found()
        return found

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[int]:
        if not self.store.versions(subject, deleted=deleted or deleted_only):
            raise errors.subject_not_found(subject)
        return [v.version for v in self.store.versions(subject, deleted=deleted, deleted_only=deleted_only)]

    def version(self, subject: str, version: str, *, deleted: bool = False) -> SubjectVersion:
        number = parse_version(version)
        found = self.store.version(subject, number, deleted=deleted)
        if found is None:
            if not self.store.versions(subject, deleted=deleted):
                raise errors.subject_not_found(subject)
            raise errors.version_not_found(-1 if number is None else number)
        return found

    def delete_version(self, subject: str, version: str, *, permanent: bool = False) -> int:
        number = parse_version(version)
        found = self.store.version(subject, number, deleted=permanent)
        if found is None:
            if not self.store.versions(subject, deleted=True):
                raise errors.subject_not_found(subject)
            if number is not None and not permanent and self.store.version(subject, number, deleted=True):
                raise errors.version_soft_deleted(subject, number)
            raise errors.version_not_found(-1 if number is None else number)
        if permanent:
            if not found.deleted:
                raise errors.version_not_soft_deleted(subject, found.version)
            self.store.hard_delete_version(subject, found.version)
        else:
            self.store.soft_delete_version(subject, found.version)
        return found.version

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        every = self.store.versions(subject, deleted=True)
        if not every:
            raise errors.subject_not_found(subject)
        any_live = any(not v.deleted for v in every)
        if permanent:
            if any_live:
                raise errors.subject_not_soft_deleted(subject)
            return self.store.hard_delete_subject(subject)
        if not any_live:
            raise errors.subject_soft_deleted(subject)
        return self.store.soft_delete_subject(subject)

    # --- schemas by id -----------------------------------------------------------------------------

    def schema(self, schema_id: str | int) -> StoredSchema:
        number = _schema_id(schema_id)
        found = self.store.schema(number) if number is not None else None
        if found is None:
            raise errors.schema_not_found(schema_id)
        return found

    def schema_usages(self, schema_id: str | int, *, deleted: bool = False) -> list[SubjectVersion]:
        found = self.schema(schema_id)
        return self.store.usages(found.schema_id, deleted=deleted)

    # --- compatibility -----------------------------------------------------------------------------

    def effective_level(self, subject: str) -> CompatibilityLevel:
        for scope in (subject, None):
            level = CompatibilityLevel.parse(self.store.compatibility(scope))
            if level is not None:
                return level
        return DEFAULT_LEVEL

    def subject_level(self, subject: str, *, default_to_global: bool = False) -> CompatibilityLevel:
        level = CompatibilityLevel.parse(self.store.compatibility(subject))
        if level is not None:
            return level
        if default_to_global:
            return self.global_level()
        raise errors.subject_compatibility_not_configured(subject)

    def global_level(self) -> CompatibilityLevel:
        return CompatibilityLevel.parse(self.store.compatibility(None)) or DEFAULT_LEVEL

    def set_level(self, subject: str | None, body: Any) -> CompatibilityLevel:
        raw = body.get("compatibility", body.get("compatibilityLevel")) if isinstance(body, dict) else None
        level = CompatibilityLevel.parse(raw)
        if level is None:
            raise errors.invalid_compatibility_level()
        self.store.set_compatibility(subject, level.value)
        return level

    def delete_level(self, subject: str | None) -> CompatibilityLevel:
        """Remove a subject's level (40408 when it has none) or reset the global one; returns the old level."""
        previous = CompatibilityLevel.parse(self.store.delete_compatibility(subject))
        if previous is not None:
            return previous
        if subject is not None:
            raise errors.subject_compatibility_not_configured(subject)
        return DEFAULT_LEVEL

    def test_compatibility(self, subject: str, version: str | None, schema: AvroSchema) -> list[str]:
        """Messages for `schema` against one version (`latest` may be absent) or, with None, what
        registering it would check; empty = compatible."""
        level = self.effective_level(subject)
        if version is None:
            return check_compatibility(level, schema, _previous(self.store.versions(subject)))
        number = parse_version(version)
        against = self.store.version(subject, number)
        if against is None:
            if number is not None:
                raise errors.version_not_found(number)
            return []
        # A single version: transitive levels check it in the same direction(s) as their plain form.
        return check_compatibility(level, schema, _previous([against]))


def _schema_id(value: str | int) -> int | None:
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) <= _MAX_VERSION else None
