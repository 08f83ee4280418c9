"""Atlas lineage: DataSets linked through Processes by the `inputs`/`outputs` relationships
(`dataset_process_inputs`, `process_dataset_outputs`). Depth counts process hops, as in Atlas.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session

from catalog.server.errors import AtlasError, Code
from catalog.server.typesystem import TypeRegistry
from catalog.server.views import EntityReader

INPUTS = "dataset_process_inputs"  # end1 Process.inputs, end2 DataSet.inputToProcesses
OUTPUTS = "process_dataset_outputs"  # end1 Process.outputs, end2 DataSet.outputFromProcesses
Direction = Literal["INPUT", "OUTPUT", "BOTH"]


class LineageWalker:
    def __init__(self, session: Session, registry: TypeRegistry) -> None:
        self.reader = EntityReader(session, registry)
        self.registry = registry
        self.relations: dict[tuple[str, str], str] = {}
        self.nodes: set[str] = set()

    def _edges(self, guid: str, side: int, relationship: str) -> list[tuple[str, str]]:
        """(other end guid, relationship guid) of `guid`'s ACTIVE edges, to ACTIVE entities."""
        rows = self.reader.relationships.at_end(guid, side, relationship)
        others = [(row.end2_guid if side == 1 else row.end1_guid, row.guid) for row in rows]
        alive = self.reader.entities.get_many(o for o, _ in others)
        return [(o, r) for o, r in others if o in alive and alive[o].row.status == "ACTIVE"]

    def _add(self, source: str, target: str, relationship_guid: str) -> None:
        self.relations.setdefault((source, target), relationship_guid)
        self.nodes.update((source, target))

    def _upstream_of_dataset(self, guid: str, depth: int) -> None:
        if depth <= 0:
            return
        for process, edge in self._edges(guid, 2, OUTPUTS):
            self._add(process, guid, edge)
            self._upstream_of_process(process, depth)

    def _upstream_of_process(self, guid: str, depth: int) -> None:
        for dataset, edge in self._edges(guid, 1, INPUTS):
            fresh = dataset not in self.nodes
            self._add(dataset, guid, edge)
            if fresh:
                self._upstream_of_dataset(dataset, depth - 1)

    def _downstream_of_dataset(self, guid: str, depth: int) -> None:
        if depth <= 0:
            return
        for process, edge in self._edges(guid, 2, INPUTS):
            self._add(guid, process, edge)
            self._downstream_of_process(process, depth)

    def _downstream_of_process(self, guid: str, depth: int) -> None:
        for dataset, edge in self._edges(guid, 1, OUTPUTS):
            fresh = dataset not in self.nodes
            self._add(guid, dataset, edge)
            if fresh:
                self._downstream_of_dataset(dataset, depth - 1)

    def lineage(self, guid: str, direction: Direction, depth: int) -> dict[str, Any]:
        base = self.reader.require(guid)
        type_name = base.row.type_name
        is_process = self.registry.is_a(type_name, "Process")
        if not is_process and not self.registry.is_a(type_name, "DataSet"):
            raise AtlasError(Code.INSTANCE_GUID_NOT_DATASET, guid)
        self.nodes.add(guid)
        if direction in ("INPUT", "BOTH"):
            if is_process:
                self._upstream_of_process(guid, depth)
            else:
                self._upstream_of_dataset(guid, depth)
        if direction in ("OUTPUT", "BOTH"):
            if is_process:
                self._downstream_of_process(guid, depth)
            else:
                self._downstream_of_dataset(guid, depth)
        records = self.reader.entities.get_many(self.nodes)
        headers = self.reader.headers([records[g] for g in sorted(self.nodes) if g in records])
        return {
            "baseEntityGuid": guid,
            "lineageDirection": direction,
            "lineageDepth": depth,
            "guidEntityMap": {h["guid"]: h for h in headers},
            "relations": [
                {"fromEntityId": source, "toEntityId": target, "relationshipId": relationship}
                for (source, target), relationship in self.relations.items()
            ],
            "relationsOnDemand": {},
        }
