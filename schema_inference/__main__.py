"""`python -m schema_inference DOMAIN [options]` (or `spark-submit -m`-style via a driver script): the same as
`deid infer DOMAIN`, for Spark deployments that launch the driver with python directly."""

import sys

from deid.cli import main

sys.exit(main(["infer", *sys.argv[1:]]))
