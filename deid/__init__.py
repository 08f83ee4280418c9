"""deid: streaming de-identification with a schema catalog."""

__version__ = "0.1.0"
