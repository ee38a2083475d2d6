"""``saidwhat_paragraphs``: a sentence starts at every line break.

News text keeps one paragraph per line.  The statistical parser sometimes
runs a sentence (and its dependency tree) across a line break, which lets a
subject in one paragraph attach to a verb in the next.  Placed before the
parser, this component presets ``is_sent_start`` on the first token after a
line break; the parser keeps preset boundaries.

    nlp.add_pipe("saidwhat_paragraphs", before="parser")
"""

from __future__ import annotations

import numpy
from spacy.attrs import IS_SPACE
from spacy.language import Language
from spacy.tokens import Doc


@Language.component("saidwhat_paragraphs")
def paragraph_boundaries(doc: Doc) -> Doc:
    # Only whitespace tokens can hold a line break; looking at those alone keeps this cheap.
    for i in numpy.flatnonzero(doc.to_array([IS_SPACE])).tolist():
        if i + 1 < len(doc) and "\n" in doc[i].text:
            doc[i + 1].is_sent_start = True
    return doc
