"""Tags follow the data and stop at treatment (real catalog, real Kafka): after a worker runs the
catalog's published policy, the anonymised topic's fields carry PII_TREATED, or their PII entity where a
rule keeps them in clear by exemption; a PII search finds the raw side and the exemptions only. The
worker's re-identification risk reaches the pipeline entity and the policy page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.catalog_support import start_catalog
from tests.conftest import Broker
from tests.integration.pipeline_support import pipeline_env

pytestmark = pytest.mark.kafka

RAW_TAGS = {"name": "PERSON", "ssn_no": "US_SSN", "dob": "DATE_TIME", "evnt_time": "DATE_TIME"}



def test_anonymised_fields_carry_what_happened_to_them(kafka: Broker, tmp_path: Path, registry_url: str) -> None:
    env = pipeline_env(kafka, "profile", tmp_path, registry_url)
    catalog = start_catalog(tmp_path / "catalog", domains={env.name: env.definition})
    try:
        env.catalog_env = catalog.env("steward")
        steward = catalog.client("steward")
        cluster = catalog.settings.cluster
        raw = env.domain.raw_topic
        fields = [
            {
                "typeName": "avro_field",
                "attributes": {"qualifiedName": f"{raw}.{path}@{cluster}", "name": path},
                "classifications": [{"typeName": entity, "attributes": {"status": "confirmed", "source": "steward"}}],
            }
            for path, entity in RAW_TAGS.items()
        ]
        steward.upsert_entities(fields)
        steward.put_policy_draft(env.name, yaml.safe_load(env.policy_file().read_text()))
        assert steward.publish_policy(env.name)["version"] == 1
        env.produce(20, seed=3)
        run = env.run("--until-caught-up")
        assert run.returncode == 0, run.stderr

        out = env.domain.anonymised_topic

        def tags(path: str) -> dict[str, dict]:
            found = steward.find_entity("avro_field", f"{out}.{path}@{cluster}")
            assert found is not None, path
            return {c["typeName"]: c.get("attributes") or {} for c in steward.get_classifications(found["guid"])}

        assert tags("name") == {"PII_TREATED": {"entity": "PERSON", "treatment": "mask"}}
        assert tags("dob")["PII_TREATED"]["treatment"] == "generalize or redact (by consent)"
        ssn = tags("ssn_no")
        assert set(ssn) == {"US_SSN"} and "kept in clear by exemption" in ssn["US_SSN"]["note"]
        assert set(tags("evnt_time")) == {"DATE_TIME"}
        assert steward.find_entity("avro_field", f"{out}.gender@{cluster}") is None  # not PII, not described

        # The worker's risk window reached the catalog: the pipeline carries it, the policy page shows it.
        pipeline = steward.find_entity("deid_pipeline", f"deid-pipeline-{env.name}@{cluster}")
        assert pipeline is not None
        report = json.loads(pipeline["attributes"]["riskReport"])
        assert report["records"] == 20 and report["quasi_identifiers"] == ["dob", "gender"]
        page = catalog.http("viewer").get(f"{catalog.url}/policies/{env.name}", timeout=30)
        assert page.status_code == 200, page.text[:300]
        assert "Re-identification risk" in page.text and 'id="min-k"' in page.text
        assert f">{report['min_k']}</strong> (target 5)" in page.text
        assert 'id="k-enforcement"' in page.text and "measure only" in page.text  # k_anonymity: measure

        people = steward.search_basic(type_name="avro_field", classification="PERSON", limit=100).get("entities") or []
        names = {e["attributes"]["qualifiedName"] for e in people}
        assert f"{raw}.name@{cluster}" in names and f"{out}.name@{cluster}" not in names
    finally:
        catalog.stop()
