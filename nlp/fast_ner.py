"""The model's own entity recognizer, decoded for a whole batch at once.

spaCy's ``ner`` is a greedy transition-based tagger: per token, a small
network scores the 74 BILUO moves (Begin, In, Last, Unit per label, and
Out), the invalid ones are masked, and the best is taken.  spaCy 3.8 runs
that loop in Cython, but its state accessors re-take the GIL on every call;
on this model the loop costs more than the network itself (about 45 µs per
token, two thirds of NER's time).

:class:`FastEntityRecognizer` keeps everything that decides the result: the
same embedding and precomputed first layer (spaCy's own layers, called as
spaCy calls them), the same feature tokens per state, the same float32
additions in the same order, the same output ``gemm`` (blis), and the same
validity rules.  Only the loop differs: every NER move consumes exactly one
token, so all documents of a batch advance in lockstep and each step is a
handful of numpy operations over the batch.  The entities are identical to
spaCy's (``tests/nlp/test_fast_ner.py`` checks it on every sample article
and, when present, on the shared news corpus).

Only the plain architecture is taken over (``TransitionBasedParser`` with its
own tok2vec, three state features, maxout, an output layer, greedy search,
every class seen in training, no preset entities); for anything else, e.g. a
transformer pipeline's listener, :func:`fast_entity_recognizer` returns None
and the model's component runs as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import numpy
from spacy.attrs import ENT_IOB, IS_SPACE, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span

from saidwhat.nlp.speed_paths import SpeedPath, check_text, guarded, same_entities

MOVE_KINDS = "BILUO"
_BEGIN, _IN, _LAST, _UNIT, _OUT = range(5)
# Tokens embedded at once: bounds the embedding's working memory (about 14 kB per token).
EMBED_TOKENS = 4096


@dataclass(frozen=True)
class Moves:
    """The transition system's classes as arrays: kind (index into BILUO) and label hash of each."""

    kind: numpy.ndarray  # int8, one per class
    label: numpy.ndarray  # uint64 string hash, 0 for Out and unlabelled moves

    @classmethod
    def of(cls, ner) -> Moves | None:
        kinds, labels = [], []
        for i in range(ner.moves.n_moves):
            name = ner.moves.get_class_name(i)
            if name == "O":
                kinds.append(_OUT)
                labels.append(0)
            elif len(name) >= 2 and name[0] in "BILU" and name[1] == "-":
                kinds.append(MOVE_KINDS.index(name[0]))
                labels.append(ner.vocab.strings.add(name[2:]) if name[2:] else 0)
            else:
                return None  # a move this decoder does not know (e.g. Missing)
        return cls(numpy.array(kinds, dtype="int8"), numpy.array(labels, dtype="uint64"))


def fast_entity_recognizer(ner) -> FastEntityRecognizer | None:
    """A batch decoder for the ``ner`` component, or None when its model is not the plain architecture."""
    try:
        model = ner.model
        if ner.cfg.get("beam_width", 1) != 1 or not model.attrs.get("has_upper") or model.attrs.get("unseen_classes"):
            return None
        if any("listener" in node.name.lower() for node in model.walk()):
            return None
        tok2vec, lower, upper = model.get_ref("tok2vec"), model.get_ref("lower"), model.get_ref("upper")
        if lower.name != "precomputable_affine" or lower.get_dim("nF") != 3 or lower.get_dim("nP") < 2:
            return None
        moves = Moves.of(ner)
    except (AttributeError, KeyError, ValueError):
        return None
    if moves is None or upper.get_param("W").shape[0] != len(moves.kind):
        return None
    return FastEntityRecognizer(ner, tok2vec, lower, upper, moves)


class FastEntityRecognizer:
    """Drop-in for the model's ``ner`` component: same entities, batch-vectorised greedy decoding."""

    def __init__(self, ner, tok2vec, lower, upper, moves: Moves) -> None:
        self.ner = ner
        self.tok2vec, self.lower, self.upper = tok2vec, lower, upper
        self.moves = moves
        self.ops = lower.ops
        n_hidden, n_pieces = lower.get_dim("nO"), lower.get_dim("nP")
        self.n_hidden, self.n_pieces = n_hidden, n_pieces
        self.bias = numpy.ascontiguousarray(lower.get_param("b"), dtype="float32")  # (hidden, pieces)
        self.out_weights = numpy.ascontiguousarray(upper.get_param("W"), dtype="float32")
        self.out_bias = numpy.ascontiguousarray(upper.get_param("b"), dtype="float32")
        kind, label = moves.kind, moves.label
        labelled = label != 0
        self.is_begin = (kind == _BEGIN) & labelled
        self.is_in = (kind == _IN) & labelled
        self.is_last = (kind == _LAST) & labelled
        self.is_unit = (kind == _UNIT) & labelled
        self.is_out = kind == _OUT
        self.label_index = numpy.unique(label, return_inverse=True)[1].astype("int64")  # label hash -> small int
        self.out_class = int(numpy.flatnonzero(self.is_out)[0]) if self.is_out.any() else -1
        self.penalties = self._penalties()

    def _penalties(self) -> numpy.ndarray:
        """BiluoPushDown's validity rules (without preset entities) as a table of score masks.

        A state's valid moves depend only on whether an entity is open (and its
        label), whether the next token may continue an entity (it exists and
        starts no sentence) and whether the next token is whitespace.  Row 0:
        no entity open, Begin/Unit/Out valid; row 1: Unit/Out (the next token
        cannot continue an entity); row 2: Out only (the next token is
        whitespace); row 3 + 2 * label (+ 1): an entity of that label is open,
        In and Last valid (+1: Last only).  Invalid moves get -inf.
        """
        n_labels = int(self.label_index.max()) + 1
        valid = numpy.zeros((3 + 2 * n_labels, len(self.label_index)), dtype=bool)
        valid[0] = self.is_begin | self.is_unit | self.is_out
        valid[1] = self.is_unit | self.is_out
        valid[2] = self.is_out
        for label in range(n_labels):
            same = self.label_index == label
            valid[3 + 2 * label] = (self.is_in | self.is_last) & same
            valid[4 + 2 * label] = self.is_last & same
        return numpy.where(valid, numpy.float32(0), numpy.float32(-numpy.inf)).astype("float32")

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 16) -> Iterator[Doc]:
        iterator = iter(docs)
        while batch := list(islice(iterator, batch_size)):
            yield from self.process(batch)

    def process(self, docs: list[Doc]) -> list[Doc]:
        # Preset entities (from an entity ruler placed before the NER) change the validity
        # rules; the model's own component handles those.
        if any(len(doc) and doc.to_array(ENT_IOB).any() for doc in docs):
            return list(self.ner.pipe(docs, batch_size=len(docs)))
        work = [doc for doc in docs if len(doc)]
        if work:
            self._annotate(work)
        return docs

    # ------------------------------------------------------------ decoding
    def _annotate(self, docs: list[Doc]) -> None:
        # Longest first, so that the documents still running at step t are a prefix.
        order = sorted(range(len(docs)), key=lambda i: -len(docs[i]))
        docs_sorted = [docs[i] for i in order]
        lengths = numpy.array([len(d) for d in docs_sorted], dtype="int64")
        cached = self._precompute(docs_sorted)
        # Row of token t of document d in ``cached``: 1 + offset[d] + t (row 0: padding).
        row_base = 1 + numpy.concatenate(([0], numpy.cumsum(lengths)[:-1]))
        columns = [d.to_array([SENT_START, IS_SPACE]) for d in docs_sorted]
        sent_start = numpy.concatenate([c[:, 0].astype("int64") for c in columns])
        is_space = numpy.concatenate([c[:, 1] for c in columns]).astype(bool)
        next_starts = numpy.zeros(len(sent_start) + 1, dtype=bool)
        next_starts[1:-1] = sent_start[1:] == 1
        # A document's last token has no next token (spaCy's empty token, sent_start 0).
        next_starts[row_base + lengths - 1] = False
        history = self._decode(cached, row_base, lengths, next_starts, is_space)
        strings_label = self.moves.label
        for j, doc in enumerate(docs_sorted):
            actions = history[: lengths[j], j]
            spans = []
            start = 0
            for t in numpy.flatnonzero(actions != self.out_class).tolist():
                move = int(actions[t])
                kind = self.moves.kind[move]
                if kind == _BEGIN:
                    start = t
                elif kind == _LAST:
                    spans.append(Span(doc, start, t + 1, label=int(strings_label[move])))
                elif kind == _UNIT:
                    spans.append(Span(doc, t, t + 1, label=int(strings_label[move])))
            # As spaCy's BiluoPushDown.set_annotations: the entities, every other token O.
            doc.set_ents(spans, default="outside")

    def _precompute(self, docs: list[Doc]) -> numpy.ndarray:
        """What spaCy's ParserStepModel computes: the tokvecs, then the precomputed first layer,
        (tokens + 1, nF, nH, nP) with row 0 the padding vector.

        Each document's rows do not depend on the others in its batch (the
        embedding pads between documents), so the embedding runs on small
        groups of documents: its working memory is about 14 kB per token, while
        the precomputed rows kept for decoding take 1.5 kB.
        """
        parts = []
        group: list[Doc] = []
        group_tokens = 0
        for i, doc in enumerate(docs):
            group.append(doc)
            group_tokens += len(doc)
            if group_tokens >= EMBED_TOKENS or i == len(docs) - 1:
                part = self.lower.predict(self.tok2vec.predict(group))
                parts.append(part if not parts else part[1:])
                group, group_tokens = [], 0
        return parts[0] if len(parts) == 1 else numpy.concatenate(parts)

    def _decode(self, cached, row_base, lengths, next_starts, is_space) -> numpy.ndarray:
        """The move taken at each step by each document: (max length, documents)."""
        n_docs, steps = len(lengths), int(lengths[0])
        history = numpy.full((steps, n_docs), self.out_class, dtype="int64")
        is_open = numpy.zeros(n_docs, dtype=bool)
        open_label = numpy.zeros(n_docs, dtype="int64")
        ent_start = numpy.zeros(n_docs, dtype="int64")
        label_index, kinds, penalties = self.label_index, self.moves.kind, self.penalties
        gemm, out_weights, out_bias, bias = self.ops.gemm, self.out_weights, self.out_bias, self.bias
        pairs = self.n_pieces == 2
        active = n_docs
        for t in range(steps):
            while lengths[active - 1] <= t:
                active -= 1
            rows = row_base[:active] + t
            opened = is_open[:active]
            # The state's features: the next token, the open entity's first token and the
            # token before the next (these two only while an entity is open; else padding).
            first = numpy.where(opened, row_base[:active] + ent_start[:active], 0)
            previous = numpy.where(opened, rows - 1, 0)
            unmaxed = cached[rows, 0]  # (states, hidden, pieces)
            unmaxed += cached[first, 1]
            unmaxed += cached[previous, 2]
            unmaxed += bias
            # Maxout; over two pieces without a reduction's per-call cost.
            hidden = numpy.maximum(unmaxed[:, :, 0], unmaxed[:, :, 1]) if pairs else unmaxed.max(axis=2)
            scores = gemm(hidden, out_weights, trans2=True)
            scores += out_bias
            # The row of ``penalties`` for each state (see _penalties).
            continues = (lengths[:active] - t >= 2) & ~next_starts[rows]
            closed_row = numpy.where(is_space[rows - 1], 2, numpy.where(continues, 0, 1))
            open_row = 3 + 2 * open_label[:active] + ~continues
            scores += penalties[numpy.where(opened, open_row, closed_row)]
            guess = scores.argmax(axis=1)
            history[t, :active] = guess
            kind = kinds[guess]
            began = kind == _BEGIN
            if began.any():
                ent_start[:active][began] = t
                open_label[:active][began] = label_index[guess[began]]
                opened |= began
            ended = kind == _LAST
            if ended.any():
                opened &= ~ended
        return history


@Language.factory("saidwhat_ner", default_config={"batch_size": 16}, requires=["doc.sents"], assigns=["doc.ents"])
def make_fast_ner(nlp: Language, name: str, batch_size: int) -> FastNerComponent:
    """The model's ``ner`` with :class:`FastEntityRecognizer`'s decoding (the model's own where unsupported)."""
    return FastNerComponent(nlp, nlp.get_pipe("ner"), batch_size)


class FastNerComponent:
    """Runs the batch decoder when it gives spaCy's entities on the self-check text, else the model's ``ner``.

    The choice is made at first use, not when the component is built: ``spacy.load`` of a saved
    pipeline builds every component before it loads their weights.
    """

    def __init__(self, nlp: Language, ner, batch_size: int) -> None:
        self.nlp = nlp
        self.ner = ner
        self.batch_size = batch_size
        self._chosen: tuple[FastEntityRecognizer | None, SpeedPath] | None = None

    def _choose(self) -> tuple[FastEntityRecognizer | None, SpeedPath]:
        if self._chosen is None:
            fast = fast_entity_recognizer(self.ner)
            if fast is None:
                problem = "the model's ner is not the plain greedy architecture this decoder knows"
            else:
                problem = guarded(lambda: same_entities(self.ner, fast, check_text(self.nlp)))
            fast = fast if problem is None else None
            detail = "batch decoder" if fast is not None else f"spaCy's ner ({problem})"
            self._chosen = fast, SpeedPath("ner", fast is not None, detail)
        return self._chosen

    @property
    def fast(self) -> FastEntityRecognizer | None:
        return self._choose()[0]

    @property
    def path(self) -> SpeedPath:
        return self._choose()[1]

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        fast = self.fast
        if fast is None:
            yield from self.ner.pipe(docs, batch_size=batch_size or self.batch_size)
        else:
            yield from fast.pipe(docs, batch_size=batch_size or self.batch_size)
