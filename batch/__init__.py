"""Batch de-identification of files: bucket prefixes or local folders in, dated anonymised outputs out.

`batch.store` (S3-compatible buckets and local folders behind one small interface), `batch.formats`
(JSON lines, CSV, Parquet, plain-text documents: rows in, rows out), `batch.files` (one input file through
the compiled plan: outputs, quarantine, counts), `batch.manifest` (the dated layout, `_manifest.json`,
what earlier runs already processed), `batch.job` (the Spark job and the region guard at start).
A library: imports core, `pipelines` and `schema_inference`, never the shell.
"""
