"""The demo corpus's gold (corpus/expected.json) as a labels CSV for `saidwhat label --from`.

    python -m saidwhat.demo.gold_labels --out demo-labels.csv
    saidwhat label --from demo-labels.csv --db demo.duckdb
    saidwhat topics report --topic moscow-meeting --db demo.duckdb

Each gold statement becomes one row: ``url`` is the article's path on the demo
server (whatever port it ran on), ``quote_contains`` the gold text,
``topic`` moscow-meeting and ``label`` yes or no (``about_moscow_meeting``).
A statement found only in a feed item's summary is stored under the item's
link, which is read from the feed file.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path
from typing import TextIO

from saidwhat.demo.server import corpus_root

TOPIC = "moscow-meeting"
COLUMNS = ["url", "quote_contains", "topic", "label", "speaker"]
BASE = "{{BASE_URL}}"


def _item_link(feed: Path, guid: str) -> str:
    """The link of the RSS item or Atom entry with this guid/id, as a path on the demo server."""
    text = feed.read_text(encoding="utf-8")
    for block in re.findall(r"<(?:item|entry)>(.*?)</(?:item|entry)>", text, re.DOTALL):
        if f">{guid}<" in block:
            link = re.search(r"<link>([^<]+)</link>|<link[^>]*href=\"([^\"]+)\"", block)
            if link:
                return (link.group(1) or link.group(2)).replace(BASE, "")
    raise ValueError(f"{feed.name} has no item {guid!r}")


def gold_label_rows(root: Path | None = None) -> list[dict[str, str]]:
    root = root or corpus_root()
    routes = json.loads((root / "routes.json").read_text(encoding="utf-8"))
    path_of_file = {file: path for path, file in routes.items()}
    rows = []
    for entry in json.loads((root / "expected.json").read_text(encoding="utf-8")):
        file = entry["file"]
        if "#" in file:
            feed, guid = file.split("#", 1)
            url = _item_link(root / feed, guid)
        else:
            url = path_of_file[file]
        label = "yes" if entry["about_moscow_meeting"] else "no"
        rows.append({"url": url, "quote_contains": entry["quote_contains"], "topic": TOPIC, "label": label,
                     "speaker": entry.get("speaker", "")})  # fmt: skip
    return rows


def write_gold_labels(stream: TextIO, root: Path | None = None) -> int:
    writer = csv.DictWriter(stream, COLUMNS, lineterminator="\n")
    writer.writeheader()
    rows = gold_label_rows(root)
    writer.writerows(rows)
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the demo gold as a labels CSV for `saidwhat label --from`.")
    parser.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.out is None:
        write_gold_labels(sys.stdout)
        return 0
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        count = write_gold_labels(handle)
    print(f"{count} labels written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
