"""Re-identification: turn encrypt-treated fields of anonymised records back into their values.

Which fields were encrypted is read from each record's writer schema (the registry's copy of the
anonymised schema documents every field's treatment: `doc: "deid: encrypt"`), so records written under
older policy versions are handled by their own schema. Each token carries its key id; a key erased by
crypto-shredding gives the marker `{"$erased": true}` for that value, anything else unreadable gives
`{"$undecryptable": "<why>"}`; the rest of the record is untouched.

Who may do this is an `Authorizer`'s decision: `deid reidentify` asks the catalog (role steward or admin,
pipelines/catalog_binding.py) and also requires the keystore's master key (`LocalKeyAuthorizer`); every
run is audited in the catalog through an `AuditSink`.
"""

from __future__ import annotations

import getpass
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from fastavro import parse_schema, schemaless_reader

from deid.errors import ConfigError, DeidError
from pipelines.keys import KeyErasedError, Keystore, KeystoreError, encrypt_key_name
from pipelines.transforms import TokenDecryptor
from pipelines.transforms.encrypt_modes import fpe_decryptor

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient

ERASED = {"$erased": True}
_ENVELOPE = re.compile(r"^(?:(?:[ks][0-9a-f]{20}:)?gAAAAA[A-Za-z0-9_-]+=*|[ks][0-9a-f]{20}:siv\.[A-Za-z0-9_-]+)$")
_ENCRYPTED_DOC = re.compile(r"^deid: .*\bencrypt\b")
# alone: a consent branch may not be fpe; the key id is there when the worker named its FPE key
_FPE_DOC = re.compile(r"^deid: encrypt\(fpe-(digits|alphanumeric)(?:, key ([ks][0-9a-f]{20}))?\)$")


class AuthorizationError(DeidError):
    """The user may not re-identify (exit 1); says which role or key is missing."""


class Authorizer(Protocol):
    def authorize(self, domain: str, fields: Sequence[str]) -> str:
        """The name of the user allowed to re-identify `fields` of `domain`; AuthorizationError otherwise."""


class LocalKeyAuthorizer:
    """The master key given must open the keystore's keys (checked before anything is read)."""

    def __init__(self, keystore: Keystore) -> None:
        self.keystore = keystore

    def authorize(self, domain: str, fields: Sequence[str]) -> str:
        for info in self.keystore.list_keys():
            if info.erased is None:
                try:
                    self.keystore.by_id(info.key_id)  # the master key given must unwrap the store's keys
                except KeystoreError as exc:
                    raise AuthorizationError(f"not authorised to re-identify {domain}: {exc}") from None
                break
        return getpass.getuser()


def encrypted_fields(schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Paths (`a.b`, `items[].x`) of the fields an anonymised schema documents as encrypt-treated."""
    return list(encryption_modes(schema, prefix))


class FpeField(NamedTuple):
    """How an fpe field was encrypted: its alphabet, and the key id (None in schemas that predate it)."""

    alphabet: str
    key_id: str | None


def encryption_modes(schema: dict[str, Any], prefix: str = "") -> dict[str, FpeField | None]:
    """Encrypted field path → its FPE alphabet and key, or None for enveloped tokens (they name their key)."""
    found: dict[str, FpeField | None] = {}
    for item in schema.get("fields", []):
        path, doc = f"{prefix}{item['name']}", item.get("doc", "")
        if _ENCRYPTED_DOC.match(doc):
            fpe = _FPE_DOC.match(doc)
            found[path] = FpeField(fpe.group(1), fpe.group(2)) if fpe else None
        for nested, is_array in _records_in(item["type"]):
            found.update(encryption_modes(nested, f"{path}[]." if is_array else f"{path}."))
    return found


def _records_in(avro_type: Any, is_array: bool = False) -> list[tuple[dict[str, Any], bool]]:
    if isinstance(avro_type, list):
        return [found for branch in avro_type for found in _records_in(branch, is_array)]
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        return [(avro_type, is_array)]
    if isinstance(avro_type, dict) and avro_type.get("type") == "array":
        return _records_in(avro_type["items"], True)
    return []


@dataclass
class ReidentifyStats:
    records: int = 0
    decrypted: int = 0
    erased: int = 0
    undecryptable: int = 0
    fields: set[str] = field(default_factory=set)


class Reidentifier:
    """Decodes Confluent-framed anonymised records and decrypts their encrypted fields (or the selected ones)."""

    def __init__(
        self,
        keystore: Keystore,
        registry: Callable[[], SchemaRegistryClient],
        domain: str,
        selected: Sequence[str] | None = None,
    ) -> None:
        self._decryptor = TokenDecryptor(keystore)
        self._registry_factory = registry
        self._registry: SchemaRegistryClient | None = None
        self._fallback_key = encrypt_key_name(domain)
        self._keystore, self._domain = keystore, domain
        self._fpe: dict[FpeField, Callable[[Any], Any]] = {}  # (alphabet, key id) → its FF1 decryptor
        self._selected = set(selected) if selected else None
        self._schemas: dict[int, tuple[Any, dict[str, FpeField | None]]] = {}
        self.stats = ReidentifyStats()

    def check_fields(self, subject: str) -> list[str]:
        """The encrypted fields of the subject's latest schema; ConfigError for a selected field not among them."""
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            latest = self._client().get_latest_version(subject)
        except SchemaRegistryError as exc:
            raise DeidError(
                f"no anonymised schema under {subject} in the registry (HTTP {exc.http_status_code})"
            ) from None
        encrypted = encrypted_fields(json.loads(latest.schema.schema_str))
        unknown = sorted((self._selected or set()) - set(encrypted))
        if unknown:
            raise ConfigError(
                f"--fields: {', '.join(unknown)} not encrypted in {subject} v{latest.version} "
                f"(encrypted fields: {', '.join(encrypted) or 'none'})"
            )
        return encrypted

    def __call__(self, raw: bytes) -> dict[str, Any]:
        if len(raw) < 5 or raw[0] != 0:
            raise DeidError("a record is not Confluent-framed Avro; is this an anonymised topic?")
        schema_id = int.from_bytes(raw[1:5], "big")
        parsed, paths = self._schema(schema_id)
        record: dict[str, Any] = schemaless_reader(io.BytesIO(raw[5:]), parsed, None)  # type: ignore[assignment]
        self.stats.records += 1
        for path, fpe in paths.items():
            if self._selected is None or path in self._selected:
                self.stats.fields.add(path)
                decrypt = self._decrypt if fpe is None else self._fpe_decrypt(fpe)
                _update(record, path.replace("[]", "").split("."), decrypt)
        return record

    def _fpe_decrypt(self, fpe: FpeField) -> Callable[[Any], Any]:
        if fpe not in self._fpe:
            self._fpe[fpe] = self._fpe_decryptor(fpe)
        return self._fpe[fpe]

    def _fpe_decryptor(self, fpe: FpeField) -> Callable[[Any], Any]:
        try:
            run = fpe_decryptor(self._keystore, self._domain, fpe.alphabet, fpe.key_id)
        except KeyErasedError:
            return self._marked(ERASED, "erased")
        except KeystoreError as exc:  # an unknown key id: every token of it is unreadable, the rest goes on
            return self._marked({"$undecryptable": str(exc)}, "undecryptable")

        def decrypt(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            try:
                plain = run(value)
            except ValueError as exc:
                self.stats.undecryptable += 1
                return {"$undecryptable": str(exc)}
            self.stats.decrypted += 1
            return plain

        return decrypt

    def _marked(self, marker: dict[str, Any], counter: str) -> Callable[[Any], Any]:
        """For the tokens of a key that cannot be opened: each value becomes `marker`, counted."""

        def mark(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            setattr(self.stats, counter, getattr(self.stats, counter) + 1)
            return dict(marker)

        return mark

    def _decrypt(self, value: Any) -> Any:
        if not isinstance(value, str) or not _ENVELOPE.match(value):
            return value  # null, or a consent branch that kept the value
        try:
            plain = self._decryptor.decrypt(value, self._fallback_key)
        except KeyErasedError:
            self.stats.erased += 1
            return dict(ERASED)
        except KeystoreError as exc:
            self.stats.undecryptable += 1
            return {"$undecryptable": str(exc)}
        self.stats.decrypted += 1
        return plain

    def _schema(self, schema_id: int) -> tuple[Any, dict[str, FpeField | None]]:
        if schema_id not in self._schemas:
            from confluent_kafka.schema_registry.error import SchemaRegistryError

            try:
                schema = json.loads(self._client().get_schema(schema_id).schema_str)
            except SchemaRegistryError as exc:
                raise DeidError(f"schema {schema_id} not found in the registry (HTTP {exc.http_status_code})") from None
            self._schemas[schema_id] = (parse_schema(schema), encryption_modes(schema))
        return self._schemas[schema_id]

    def _client(self) -> SchemaRegistryClient:
        if self._registry is None:
            self._registry = self._registry_factory()
        return self._registry


def _update(value: Any, keys: list[str], fn: Callable[[Any], Any]) -> None:
    """Apply `fn` to the value at `keys` inside nested dicts (and lists of dicts along the way)."""
    if isinstance(value, list):
        for item in value:
            _update(item, keys, fn)
        return
    if not isinstance(value, dict) or keys[0] not in value:
        return
    if len(keys) == 1:
        target = value[keys[0]]
        value[keys[0]] = [fn(v) for v in target] if isinstance(target, list) else fn(target)
    else:
        _update(value[keys[0]], keys[1:], fn)
