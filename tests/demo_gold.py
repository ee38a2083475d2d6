"""Score a demo database against the sample corpus's hand-made gold list."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from saidwhat.demo.server import corpus_root


@dataclass(frozen=True)
class GoldScore:
    gold: int
    found: int
    speaker_right: int
    misses: list[dict]

    @property
    def recall(self) -> float:
        return self.found / self.gold

    @property
    def speaker_accuracy(self) -> float:
        return self.speaker_right / self.found if self.found else 0.0


def _last_word(name: str | None) -> str:
    return (name or "").lower().replace("\u2019s", "").split()[-1:][0] if (name or "").split() else ""


def score_demo_db(db: Path) -> GoldScore:
    root = corpus_root()
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    path_of_file = {file: path for path, file in routes.items()}
    gold = json.loads((root / "expected.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT a.url, a.guid, s.quote, s.speaker FROM v_statements s JOIN articles a USING (article_id)"
        ).fetchall()
        sources = con.execute("SELECT guid, url FROM article_sources").fetchall()
    guid_to_url = dict(sources)
    by_path: dict[str, list[tuple[str, str | None]]] = {}
    for url, _guid, quote, speaker in rows:
        path = "/" + url.split("/", 3)[3].split("?")[0] if url.count("/") >= 3 else url
        by_path.setdefault(path, []).append((" ".join(quote.split()), speaker))
    found = right = 0
    misses = []
    for entry in gold:
        if "#" in entry["file"]:
            url = guid_to_url.get(entry["file"].split("#", 1)[1], "")
            path = "/" + url.split("/", 3)[3].split("?")[0] if url.count("/") >= 3 else url
        else:
            path = path_of_file[entry["file"]]
        needle = " ".join(entry["quote_contains"].split())
        hits = [speaker for quote, speaker in by_path.get(path, []) if needle in quote]
        if not hits:
            misses.append({**entry, "why": "missed"})
            continue
        found += 1
        if any(_last_word(s) == _last_word(entry["speaker"]) for s in hits):
            right += 1
        else:
            misses.append({**entry, "why": f"speaker {hits}"})
    return GoldScore(len(gold), found, right, misses)
