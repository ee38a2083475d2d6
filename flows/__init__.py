"""Prefect flows: the pipeline's story. No HTTP, SQL or NLP details live here."""
