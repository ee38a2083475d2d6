"""saidwhat: who said what about a story, from news feeds to DuckDB."""

__version__ = "0.1.0"
