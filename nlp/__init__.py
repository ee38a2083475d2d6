"""spaCy components that find statements and attribute them to speakers.

Nothing in this package knows about HTTP or DuckDB: it takes text (or spaCy
Docs) and returns ``saidwhat.core.records`` values.
"""

# Bumped whenever the extraction rules change in a way that changes output;
# stored with every statement so `saidwhat reprocess` knows what is stale.
EXTRACTOR_VERSION = "5"
