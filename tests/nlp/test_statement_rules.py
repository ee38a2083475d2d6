"""Sentence-level cases, one per attribution rule: exact quote span, speaker and cue."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from saidwhat.core.records import SpeakerType, StatementKind


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    quote: tuple[str, ...]  # the quoted piece(s), in order
    kind: StatementKind
    speaker: str | None
    cue: str | None
    speaker_type: SpeakerType = SpeakerType.PERSON
    mention: str | None = None  # speaker as written, when it differs from the canonical name
    role: str | None = None
    index: int = 0  # which statement of the text


CASES = [
    Case(
        "straight quotes, verb last",
        '"We will not accept this," Peskov said.',
        ('"We will not accept this,"',),
        StatementKind.DIRECT,
        "Peskov",
        "said",
    ),
    Case(
        "curly quotes, verb first, role split off",
        "“The talks were constructive,” said Kremlin spokesman Dmitry Peskov.",
        ("“The talks were constructive,”",),
        StatementKind.DIRECT,
        "Dmitry Peskov",
        "said",
        role="Kremlin spokesman",
    ),
    Case(
        "guillemets after 'said:'",
        "Sergei Lavrov said: «We will not back down from our position.»",
        ("«We will not back down from our position.»",),
        StatementKind.DIRECT,
        "Sergei Lavrov",
        "said",
    ),
    Case(
        "split quote is one statement",
        '"It was a good meeting," Donald Trump said. "We made a lot of progress."',
        ('"It was a good meeting,"', '"We made a lot of progress."'),
        StatementKind.DIRECT,
        "Donald Trump",
        "said",
    ),
    Case(
        "unclosed quote continues in the next paragraph",
        'Vladimir Putin said: "We are ready to talk.\n\n"But the West must listen to us."',
        ('"We are ready to talk.', '"But the West must listen to us."'),
        StatementKind.DIRECT,
        "Vladimir Putin",
        "said",
    ),
    Case(
        "reported speech: told reporters that",
        "Donald Trump told reporters on Tuesday that a deal was close.",
        ("that a deal was close",),
        StatementKind.INDIRECT,
        "Donald Trump",
        "told",
    ),
    Case(
        "reported speech without 'that'",
        "The Kremlin said the summit would take place next month.",
        ("the summit would take place next month",),
        StatementKind.INDIRECT,
        "the Kremlin",
        "said",
        SpeakerType.ORGANIZATION,
        mention="Kremlin",
    ),
    Case(
        'mixed: called it "..."',
        'Former vice president Joe Biden called it "a gift to Putin."',
        ('it "a gift to Putin."',),
        StatementKind.MIXED,
        "Joe Biden",
        "called",
        role="Former vice president",
    ),
    Case(
        "according to",
        "The summit will take place in Alaska, according to the Kremlin.",
        ("The summit will take place in Alaska",),
        StatementKind.ACCORDING_TO,
        "the Kremlin",
        "according to",
        SpeakerType.ORGANIZATION,
        mention="Kremlin",
    ),
    Case(
        "colon cue without a verb",
        'Peskov: "We are ready for talks at any level."',
        ('"We are ready for talks at any level."',),
        StatementKind.DIRECT,
        "Peskov",
        ":",
    ),
    Case(
        "floating quote inherits the speaker",
        '"We are ready," Vladimir Putin said.\n\n"The ball is in their court now."',
        ('"The ball is in their court now."',),
        StatementKind.FLOATING,
        "Vladimir Putin",
        "said",
        index=1,
    ),
    Case(
        "role noun resolves to the person introduced with that role",
        "Kremlin spokesman Dmitry Peskov spoke on Monday.\n\n"
        '"We expect a reply very soon," said the Kremlin spokesman.',
        ('"We expect a reply very soon,"',),
        StatementKind.DIRECT,
        "Dmitry Peskov",
        "said",
        mention="the Kremlin spokesman",
        role="the Kremlin spokesman",
    ),
    Case(
        "pronoun resolves to the previous subject",
        'Vladimir Putin met the envoy on Thursday.\n\n"We had a useful conversation," he said.',
        ('"We had a useful conversation,"',),
        StatementKind.DIRECT,
        "Vladimir Putin",
        "said",
        mention="he",
    ),
    Case(
        "title split off a name",
        "U.S. special envoy Steve Witkoff told reporters that the meeting was productive.",
        ("that the meeting was productive",),
        StatementKind.INDIRECT,
        "Steve Witkoff",
        "told",
        role="U.S. special envoy",
    ),
    Case(
        "short form resolves to the full name",
        'Donald Trump arrived in Alaska on Friday.\n\nTrump said the meeting was going to be "very productive."',
        ('the meeting was going to be "very productive."',),
        StatementKind.MIXED,
        "Donald Trump",
        "said",
        mention="Trump",
    ),
    Case(
        "the Russian leader",
        "Russian President Vladimir Putin arrived in Alaska.\n\nThe Russian leader said the talks were useful.",
        ("the talks were useful",),
        StatementKind.INDIRECT,
        "Vladimir Putin",
        "said",
        mention="The Russian leader",
        role="The Russian leader",
    ),
    Case(
        "unnamed official",
        "A White House official said the president would not attend the dinner.",
        ("the president would not attend the dinner",),
        StatementKind.INDIRECT,
        "a White House official",
        "said",
        SpeakerType.UNNAMED,
        mention="A White House official",
    ),
    Case(
        "unnamed sources familiar with",
        "Two officials familiar with the planning said the meeting could slip.",
        ("the meeting could slip",),
        StatementKind.INDIRECT,
        "two officials familiar with the planning",
        "said",
        SpeakerType.UNNAMED,
        mention="Two officials familiar with the planning",
    ),
    Case(
        "partitive subject: the whole phrase names the source",
        "One of the officials said the talks would resume in March.",
        ("the talks would resume in March",),
        StatementKind.INDIRECT,
        "one of the officials",
        "said",
        SpeakerType.UNNAMED,
        mention="One of the officials",
    ),
    Case(
        "partitive with a number and a possessive",
        "Two of his advisers said the trip was not on the calendar.",
        ("the trip was not on the calendar",),
        StatementKind.INDIRECT,
        "two of his advisers",
        "said",
        SpeakerType.UNNAMED,
        mention="Two of his advisers",
    ),
    Case(
        "participle continues the same speaker",
        "Peskov said Moscow had not received any proposal, adding that talks would continue.",
        ("that talks would continue",),
        StatementKind.INDIRECT,
        "Peskov",
        "adding",
        index=1,
    ),
    Case(
        "'he said' inside a quotation belongs to the quotation",
        '"I told him, and he said no," Witkoff recalled.',
        ('"I told him, and he said no,"',),
        StatementKind.DIRECT,
        "Witkoff",
        "recalled",
    ),
]

NEGATIVE = [
    pytest.param('"Next time in Moscow": Putin\'s parting shot.', id="headline in quotation marks"),
    pytest.param('The "Putinization" of policy worries diplomats in Brussels.', id="scare quotes without a speaker"),
    pytest.param('He read his book "The Art of the Deal" on the plane.', id="book title"),
    pytest.param('"Peace Through Strength"\n\nThe summit opened on Friday in Anchorage.', id="quoted headline line"),
    pytest.param("Did Trump say he was meeting Putin in Russia?", id="question, not a report"),
]


def _pieces(text: str, statement) -> tuple[str, ...]:
    spans = statement.quote_spans or ((statement.quote_start, statement.quote_end),)
    return tuple(text[s:e] for s, e in spans)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(nlp_sm, case: Case) -> None:
    doc = nlp_sm(case.text)
    statements = doc._.statements
    assert len(statements) > case.index, f"no statement #{case.index} in {case.text!r}"
    st = statements[case.index]
    assert _pieces(case.text, st) == case.quote
    assert st.kind == case.kind
    assert st.speaker == case.speaker
    assert st.speaker_type == case.speaker_type
    assert st.cue == case.cue
    assert case.text[st.cue_start : st.cue_end] == case.cue
    mention = case.mention or case.speaker
    assert st.speaker_mention == mention
    assert case.text[st.speaker_start : st.speaker_end] == mention
    if case.role is not None:
        assert st.speaker_role == case.role


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_statement(nlp_sm, text: str) -> None:
    assert nlp_sm(text)._.statements == []


def test_he_said_inside_quote_is_not_a_statement(nlp_sm) -> None:
    statements = nlp_sm('"I told him, and he said no," Witkoff recalled.')._.statements
    assert [s.speaker for s in statements] == ["Witkoff"]


MORE_CASES = [
    Case(
        "parenthetical 'X, she said, Y' reports the whole sentence",
        "A wall would stop the flow of drugs, Sarah Palin said, and it would pay for itself.",
        ("A wall would stop the flow of drugs", "and it would pay for itself"),
        StatementKind.INDIRECT,
        "Sarah Palin",
        "said",
    ),
    Case(
        "first person resolves to the byline author",
        "By Jane Smith\n\nI asked the senator about the vote.\n\nI told him that the bill would fail in the House.",
        ("that the bill would fail in the House",),
        StatementKind.INDIRECT,
        "Jane Smith",
        "told",
        mention="I",
    ),
    Case(
        "relative 'who' is the mention, its antecedent the speaker",
        "The plan was backed by Jeb Bush, who said it would create millions of jobs.",
        ("it would create millions of jobs",),
        StatementKind.INDIRECT,
        "Jeb Bush",
        "said",
        mention="who",
    ),
    Case(
        "subject before a comma-fenced participle",
        "Donald Trump, speaking to reporters on Sunday, said Witkoff was a great negotiator.",
        ("Witkoff was a great negotiator",),
        StatementKind.INDIRECT,
        "Donald Trump",
        "said",
    ),
    Case(
        "misparsed complement of 'said' with a modal verb",
        'Senator Jeanne Whitlock said a trip to Moscow before a ceasefire would be "a historic mistake."',
        ('a trip to Moscow before a ceasefire would be "a historic mistake."',),
        StatementKind.MIXED,
        "Jeanne Whitlock",
        "said",
        role="Senator",
    ),
    Case(
        "a short sentence about a person introduces the next quotation",
        '"We will win," said Craig Robinson.\n\nDianne Bystrom agreed. "Republicans are running out of time."',
        ('"Republicans are running out of time."',),
        StatementKind.DIRECT,
        "Dianne Bystrom",
        "agreed",
        index=1,
    ),
]


@pytest.mark.parametrize("case", MORE_CASES, ids=[c.name for c in MORE_CASES])
def test_more_rules(nlp_sm, case: Case) -> None:
    test_rule(nlp_sm, case)


def test_a_wire_dateline_is_not_part_of_fronted_reported_content(nlp_sm):
    text = (
        "MOSCOW (Northgate Wire) — A summit in Moscow is possible before summer if negotiators finish a draft,"
        " Kremlin spokesman Dmitry Peskov said on Monday."
    )
    (statement,) = nlp_sm(text)._.statements
    assert statement.quote.startswith("A summit in Moscow is possible")
    assert statement.speaker == "Dmitry Peskov"
