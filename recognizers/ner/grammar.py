"""A small phrase grammar that composes training templates, so the model learns words, not template layouts.

Hand-written templates alone teach shortcuts ("the first capitalised word of a sentence is a person").
Composing lead-ins, subjects (people, but also capitalised non-entities), verb phrases and tails gives
thousands of distinct sentence shapes. Used for training only; dev and test render hand-written templates.
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

from recognizers.ner import templates_train
from recognizers.ner.names import name_words

WORDS_FILE = Path(__file__).parent / "data" / "english_words.txt"

LEADS: tuple[str, ...] = (
    "", "", "", "", "", "", "Yesterday ", "Today ", "This morning ", "Earlier today ", "On {DATE} ",
    "On {DATE}, ", "At {TIME} ", "At {TIME}, ", "Last week ", "Note: ", "FYI: ", "Update: ", "Urgent: ",
    "Follow-up: ", "As discussed, ", "As agreed, ", "Apparently ", "Again ", "PS: ", "Important: ",
    "Reminder: ", "Summary: ", "Also, ", "However, ", "Meanwhile ", "Afterwards ", "In the end ",
    "Unfortunately ", "Good news: ", "Since {DATE} ", "Before {DATE}, ", "Around {TIME} ", "Then ", "Later ",
    "Sadly ", "Once again ", "For the record, ", "{DATE}: ", "{DATETIME} - ", "[{TICKET}] ", "Re {TICKET}: ",
)  # fmt: skip

PERSON_SUBJECTS: tuple[str, ...] = (
    "{PERSON}", "{PERSON}", "{PERSON}", "{PERSON}", "{TITLED}", "{TITLED}", "{FIRST}", "{FULL}",
    "customer {PERSON}", "our customer {PERSON}", "the client, {PERSON},", "{PERSON} from {CITY}",
    "{PERSON} of {ORG}", "{PERSON} ({USER_ID})", "{PERSON} and {PERSON}", "{PERSON}'s wife",
    "{PERSON}'s lawyer, {PERSON},", "{PERSON}, a {NATIONALITY} student,", "landlord {PERSON}",
    "{PERSON} ({PHONE})", "agent {FIRST}", "{TITLED} and {TITLED}", "my colleague {FIRST}",
    "{PERSON}, who lives in {CITY},", "{PERSON} at {ORG}", "{PERSON} in {COUNTRY}",
    "{ROLE} {PERSON}", "{ROLE} {PERSON}", "{ROLE} {TITLED}", "our {ROLE} {FULL}", "the {ROLE}, {PERSON},",
)  # fmt: skip

# Roles written before a name; never part of the PERSON span.
ROLES: tuple[str, ...] = (
    "technician", "driver", "courier", "manager", "nurse", "doctor", "colleague", "supervisor", "engineer",
    "lawyer", "notary", "tenant", "owner", "caller", "agent", "customer", "client", "landlord", "patient",
    "student", "teacher", "director", "accountant", "installer", "advisor", "consultant", "guest", "member",
    "pensioner", "applicant", "cardholder", "subscriber", "policyholder", "witness", "neighbour",
)  # fmt: skip

HEADINGS: tuple[str, ...] = (
    "Call log {DATE}", "Notes - {DATE}", "Visit report, {DATE}", "Shift handover {DATETIME}",
    "Daily summary - {DATE}", "Incident {TICKET} ({DATE})", "Minutes of {DATE}", "Log entry {DATETIME}",
    "Weekly report: {DATE}", "Complaint {TICKET}", "Case file - {PERSON}", "Visit: {TITLED}",
)  # fmt: skip

# Capitalised subjects that are not entities: the sentence start alone never makes a name.
OTHER_SUBJECTS: tuple[str, ...] = (
    "The customer", "The caller", "Caller", "Customer", "Client", "Our technician", "Billing", "The courier",
    "Support", "The team", "Team", "Management", "The landlord", "Head office", "The system", "System",
    "Parcel", "Invoice", "Delivery", "The bank", "Legal", "Sales", "Security", "Reception", "Nobody",
    "Someone", "Everyone", "Another agent", "The driver", "Accounts", "Finance", "Compliance", "The owner",
    "The tenant", "Her husband", "His daughter", "The son", "A neighbour", "The sender", "Dispatch",
    "Warehouse", "Returns", "Marketing", "The app", "Website", "Chatbot", "Night shift", "Tech support",
    "Quality", "Retention", "Collections", "The shop", "Store staff", "Level 2", "Tier 1", "The supplier",
    "{ORG}", "{ORG}", "The {CITY} office", "Our {CITY} branch", "Staff in {CITY}", "{NATIONALITY} customers",
    "Many {NRP}", "Some {NATIONALITY} viewers", "Most {RELIGION} families", "Several {POLITICAL}",
    "Orders", "Deliveries", "Flights", "Calls", "Complaints", "Payments", "Refunds", "Letters", "Invoices",
    "Technicians", "Drivers", "Agents", "Customers", "Boxes", "Cards", "Routers", "Replacement parts",
    "Spare keys", "New contracts", "Renewals", "Most tickets", "All parcels", "Two calls", "Three emails",
    "{ORG}'s support team", "The {ORG} app", "Insurer {ORG}", "Our partner {ORG}", "Bank {ORG}",
    "Carrier {ORG}", "{ORG} customer service", "Someone from {ORG}", "The {PRODUCT}", "Every {PRODUCT}",
    "{CAPS}", "{CAPS}", "{CAPS}", "The {CAPS} team", "Our {CAPS} service", "{CAPS} support",
)  # fmt: skip

# Sentences about places and organisations (not people): the entity is the subject.
PLACE_CLAUSES: tuple[str, ...] = (
    "{CITY} is the new delivery area", "{CITY} was fully booked", "{ADDRESS} is the new billing address",
    "Roads in {CITY} were closed", "{COUNTRY} changed its VAT rules", "Flights to {CITY} are delayed",
    "Snow in {CITY} delayed deliveries", "{STREET} is blocked by roadworks", "{CITY} and {CITY} are covered",
    "Coverage in {COUNTRY} is limited", "{ORG} sent the invoice", "An email from {ORG} arrived",
    "{ORG} raised its prices", "{ORG} confirmed the transfer", "{ORG} changed the delivery slot",
    "{ORG} moved to {ADDRESS}", "{ORG} has a depot in {CITY}", "Tickets from {ORG} are pending",
    "The {NATIONALITY} authorities asked for copies", "{NRP} holidays affect opening hours",
    "Stores in {COUNTRY} close early", "{CITY} customers get free shipping",
)  # fmt: skip

# TV shows and films in their usual company: the context, not the title, says it is not a person.
MEDIA_CLAUSES: tuple[str, ...] = (
    "{S} watched {TV}", "{S} is watching {TV}", "{S} streamed {TV} on {CHANNEL}", "{S} binged {TV}",
    "{S} recorded {TV}", "{S} missed the last episode of {TV}", "{S} rewatched {TV}",
    "{S} fell asleep during {TV}", "{S} loved the {TV} finale", "{S} asked when {TV} season {NUM} starts",
    "{S} cannot play episodes of {TV}", "{S} bought the {TV} box set", "{S} rented {FILM}", "{S} bought {FILM}",
    "{S} wants a refund for {FILM}", "{S} saw the film {FILM}", "{S} paused the movie {FILM}",
    "{S} booked two tickets for {FILM}", "{S} subscribed to watch {TV}", "{S} recommends {TV} and {FILM}",
    "{TV} keeps buffering", "{TV} returns on {DATE}", "{TV} was cancelled", "{TV} is trending in {COUNTRY}",
    "{FILM} won an award", "{FILM} is available in HD", "{CHANNEL} shows {TV} at {TIME}",
    "{TV} (S{NUM}E{NUM}) failed to load", "The new season of {TV} starts on {CHANNEL}",
    "The cast of {TV} visited {CITY}", "A {GENRE} like {TV}", "{TV} on {CHANNEL}", "{FILM} on {CHANNEL}",
    "Episode {NUM} of {TV} has no sound", "{TV} and {TV} are in the kids profile",
)  # fmt: skip

# "Key: value" lines of tickets and forms whose key is a capitalised word, not a name.
STATUS_LINES: tuple[str, ...] = (
    "Status: Pending", "Status: Closed", "Priority: High", "Priority: Low", "Category: Billing",
    "Category: Delivery", "Channel: Phone", "Outcome: Resolved", "Type: Complaint", "Callback: yes",
    "Result: No answer", "Product: {PRODUCT}", "Series: {TV}", "Film: {FILM}", "Network: {CHANNEL}",
    "Genre: {GENRE}", "Customer: {PERSON}", "Contact: {FULL}", "Caller: {PERSON}", "Agent: {FIRST}",
    "Assignee: {FULL}", "City: {CITY}", "Country: {COUNTRY}", "Address: {ADDRESS}", "Company: {ORG}",
    "Employer: {ORG}", "Date: {DATE}", "Due: {DATE}", "Created: {DATETIME}", "Ticket: {TICKET}",
    "Phone: {PHONE}", "Email: {EMAIL}", "IBAN: {IBAN}", "Card: {CARD}", "User: {USER_ID}", "Amount: {AMOUNT}",
    "Nationality: {NATIONALITY}", "Religion: {RELIGION}", "Reason: Moved house", "Next step: Call back",
)  # fmt: skip

VERB_PHRASES: tuple[str, ...] = (
    "called", "phoned in", "rang twice", "wrote back", "emailed us", "complained", "asked for a refund",
    "requested a callback", "confirmed the booking", "cancelled the order", "paid the invoice",
    "signed the contract", "reported a fault", "disputed the charge", "changed the password",
    "updated the address", "is waiting for a reply", "has not paid yet", "was very polite", "sounded confused",
    "was angry", "left a message", "opened a ticket", "upgraded the plan", "returned the device",
    "lost the card", "moved house", "is on holiday", "sent the documents", "needs a new router",
    "cannot log in", "asked about the contract", "wants to switch plans", "accepted the offer",
    "declined the offer", "closed the account", "will come back", "missed the appointment",
    "confirmed the address", "received the wrong item", "was overcharged", "approved the refund",
    "checked the logs", "escalated the case", "fixed the issue", "shipped the parcel", "blocked the card",
    "sent a reminder", "updated the ticket", "has moved", "is travelling", "watched {TV} all evening",
    "bought {FILM}", "streams {TV} on {CHANNEL}", "ordered a {PRODUCT}", "returned the {PRODUCT}",
    "lives at {ADDRESS}", "lives in {CITY}", "moved to {CITY}", "moved to {COUNTRY}", "is from {CITY}",
    "was born in {CITY}", "works for {ORG}", "joined {ORG}", "left {ORG}", "banks with {ORG}",
    "flew to {CITY}", "drove from {CITY} to {CITY}", "stayed in {COUNTRY}", "is {NATIONALITY}",
    "is a practising {RELIGION}", "votes for the {POLITICAL}", "paid {AMOUNT}", "called from {PHONE}",
    "wrote from {EMAIL}", "was born on {DATE}", "speaks {LANGUAGE}", "prefers {LANGUAGE}",
    "reads {LANGUAGE} slowly", "asked for a {LANGUAGE} contract", "only writes in {LANGUAGE}",
)  # fmt: skip

# Languages are not NRP (a nationality is): "speaks German" vs "a German citizen".
LANGUAGES: tuple[str, ...] = (
    "English", "German", "French", "Spanish", "Italian", "Dutch", "Polish", "Portuguese", "Greek", "Czech",
    "Swedish", "Turkish", "Arabic", "Ukrainian",
)  # fmt: skip

TAILS: tuple[str, ...] = (
    "", "", "", "", "", " about {TICKET}", " about the invoice from {DATE}", " on {DATE}", " at {TIME}",
    " from {CITY}", " from {ADDRESS}", " in {CITY}", " in {COUNTRY}", " for {AMOUNT}", " via {EMAIL}",
    " on {PHONE}", " about the {PRODUCT}", " about {TV} on {CHANNEL}", " after watching {FILM}",
    " with {ORG}", " at {ORG}", " for {PERSON}", " on behalf of {PERSON}", " with {PERSON}",
    " before {DATETIME}", " since {DATE}", " until {DATE}", " while in {COUNTRY}", " near {STREET}",
    " to {ADDRESS}", " twice", " again", " this week", " last night", " by phone", " in person",
    " at the {CITY} shop", " from our {CITY} office", " with card {CARD}", " from {IBAN}", " for user {USER_ID}",
    " on {DATETIME}", " at {STREET}", " in {CITY}, {COUNTRY}", " for the {NATIONALITY} branch",
    " before Friday", " on Monday", " every Tuesday", " in March", " next Thursday", " by Sunday",
    " in June", " on Saturday morning", " from {ORG}", " for {ORG}", " to {ORG}", " via {ORG}",
    " c/o {ORG}", ", {ADDRESS}", " ({CITY})", " - {CITY}", " [{ORG}]", " at {ORG}, {ADDRESS}",
    ", {CITY}", " in {COUNTRY} and {COUNTRY}", " from {ORG} in {CITY}", " with {PERSON} and {PERSON}",
    " in {CAPS}", " via {CAPS}", " under {CAPS}", " for the {CAPS} project", " (see {CAPS})",
    ", {WORDS} pending", ", {WORDS} attached", " and {WORDS}", ", no {WORDS}", ", {WORDS} to follow",
    ", {WORDS} of {WORDS} missing", " but {WORDS}", ", then {WORDS}",
)  # fmt: skip

# Someone does something to a person: names in object position.
OBJECT_CLAUSES: tuple[str, ...] = (
    "We called {P} back", "We emailed {P}", "I texted {P}", "Refunded {P}", "Reminded {P}", "Visited {P}",
    "Thanked {P}", "Warned {P}", "Told {P}", "Met {P}", "Helped {P}", "Booked {P}", "Billed {P}",
    "Contacted {P}", "Sent the form to {P}", "Left a message for {P}", "Assigned to {P}", "cc {P}",
    "Approved by {P}", "Checked by {P}", "Escalated by {P}", "A refund was sent to {P}",
    "The parcel was delivered to {P}", "Our technician visited {P}", "The courier could not reach {P}",
    "Billing will contact {P}", "Please call {P}", "Please email {P}", "Ask {P}", "Transferred {P} to billing",
    "Waiting for {P}", "No reply from {P}", "Invoice sent to {P}", "Welcome pack posted to {P}",
    "Account opened for {P}", "Password reset for {P}", "Gave {P} a discount", "Apologised to {P}",
)  # fmt: skip

# Objects that are not names (lower case, or a role): "called the customer back" has no person entity.
OTHER_OBJECTS: tuple[str, ...] = (
    "the customer", "the caller", "her son", "his wife", "the technician", "them", "everyone", "the bank",
    "support", "billing", "the landlord", "the courier", "the client", "our partner", "the owner", "him",
    "her", "the team", "the tenant", "the sender", "the applicant", "both of them", "the family", "my manager",
)  # fmt: skip

# How a sentence goes on after a capitalised ordinary first word.
WORD_CONTINUATIONS: tuple[str, ...] = (
    " to {P}", " with {P}", " from {P}", " for {P}", " a call from {P}", " the form to {P}", " by {P}",
    " back to {P} about {TICKET}", " - {P} again", " {P} twice", " on behalf of {P}", " {P}", " {P} today",
    " the {PRODUCT}", " in {CITY}", " at {ADDRESS}", " {TV} on {CHANNEL}", " everything", " twice",
    " all tickets", " and closed", " as requested", " via {ORG}", " the {NOUN} from {P}", " a {NOUN}",
    " the {NOUN} of {P}", " of {P}", " about {P}",
)  # fmt: skip

CASUAL_SHARE = 0.2
CASUAL_LEADS: tuple[str, ...] = ("", "", "", "so ", "well, ", "ok ", "fyi ", "btw ", "hmm, ", "also ", "and ", "but ")

ENDINGS: tuple[str, ...] = (".", ".", ".", ".", ".", "!", "", ";", " - thanks.", " (see notes).", "?")

CLOSINGS: tuple[str, ...] = (
    "Best regards,\n{FULL}", "Kind regards,\n{FULL}", "Regards,\n{FIRST}", "Best wishes,\n{FULL}",
    "Thanks and regards,\n{FULL}", "Respectfully,\n{TITLED}", "Warm regards,\n{FIRST}", "Cheers,\n{FIRST}",
    "Thank you,\n{FULL}\n{ORG}", "All the best,\n{FIRST}", "Sent from my phone", "Thanks in advance.",
)  # fmt: skip


def compose(rng: random.Random) -> str:
    """One training sentence template made of grammar parts."""
    template = _compose(rng)
    while "{CAPS}" in template:
        template = template.replace("{CAPS}", _caps(rng), 1)
    while "{WORDS}" in template:
        words = " ".join(_word(rng) for _ in range(rng.randint(1, 3)))
        template = template.replace("{WORDS}", words, 1)
    return template.replace("{LANGUAGE}", rng.choice(LANGUAGES))


def _compose(rng: random.Random) -> str:
    roll = rng.random()
    lead = rng.choice(LEADS)
    if roll < 0.05:
        return rng.choice(STATUS_LINES)
    if roll < 0.07:
        return rng.choice(HEADINGS)
    if roll < 0.20:
        return _sentence("", _word_start(rng), rng)
    if roll < 0.27:
        return _sentence(lead, rng.choice(PLACE_CLAUSES) + rng.choice(TAILS), rng)
    if roll < 0.36:
        subject = rng.choice(PERSON_SUBJECTS[:8]) if rng.random() < 0.6 else rng.choice(OTHER_SUBJECTS[:40])
        return _sentence(lead, rng.choice(MEDIA_CLAUSES).replace("{S}", subject) + rng.choice(TAILS), rng)
    if roll < 0.64:
        subject = rng.choice(PERSON_SUBJECTS)
    elif roll < 0.85:
        subject = rng.choice(OTHER_SUBJECTS)
    else:
        target = rng.choice(PERSON_SUBJECTS[:8]) if rng.random() < 0.7 else rng.choice(OTHER_OBJECTS)
        clause = rng.choice(OBJECT_CLAUSES).replace("{P}", target)
        return _sentence(lead, clause + rng.choice(TAILS), rng)
    if "{ROLE}" in subject:
        role = rng.choice(ROLES)
        lead = lead if rng.random() < 0.5 else ""  # "Technician Anna Nowak ...": the role opens the sentence
        subject = subject.replace("{ROLE}", role.capitalize() if subject.startswith("{ROLE}") else role)
    body = f"{subject} {rng.choice(VERB_PHRASES)}{rng.choice(TAILS)}"
    if rng.random() < 0.25:
        body += f" and {rng.choice(VERB_PHRASES)}{rng.choice(TAILS)}"
    return _sentence(lead, body, rng)


def _word_start(rng: random.Random) -> str:
    """A sentence opened by a capitalised ordinary word ("Refunds", "Callback", "Checked"), not a name."""
    word = _word(rng).capitalize()
    roll = rng.random()
    if roll < 0.3:
        return f"{word} {rng.choice(VERB_PHRASES)}{rng.choice(TAILS)}"
    if roll < 0.45:
        return f"{word}: {rng.choice(PERSON_SUBJECTS[:8])} {rng.choice(VERB_PHRASES)}"
    if roll < 0.55:
        return f"{word} and {_word(rng)} {rng.choice(VERB_PHRASES)}{rng.choice(TAILS)}"
    person = rng.choice(PERSON_SUBJECTS[:8]) if rng.random() < 0.7 else rng.choice(OTHER_OBJECTS)
    more = rng.choice(WORD_CONTINUATIONS).replace("{P}", person).replace("{NOUN}", _word(rng))
    return f"{word}{more}{rng.choice(TAILS)}"


@functools.cache
def _all_common_words() -> frozenset[str]:
    """Words of the training templates and this grammar plus Faker's English word list."""
    from faker import Faker

    texts = (*templates_train.SENTENCES, *VERB_PHRASES, *TAILS, *OTHER_SUBJECTS, *OBJECT_CLAUSES, *ROLES)
    words = {w for text in texts for w in re.findall(r"(?<![{\w])[a-z]{3,}(?![}\w])", text)}
    return frozenset(
        words | {w for w in Faker("en_US").get_words_list() if w.isalpha() and w.islower() and len(w) >= 3}
    )


@functools.cache
def _all_dictionary_words() -> frozenset[str]:
    """Tens of thousands of English words (SCOWL, `data/english_words.txt`)."""
    lines = WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w and not w.startswith("#"))


@functools.cache
def _vocabulary() -> tuple[str, ...]:
    """Common words minus given names and surnames ("Mark", "Grace": name-like templates teach those).
    Sorted, like every pool drawn from: draws must not follow set order."""
    return tuple(sorted(_all_common_words() - name_words()))


@functools.cache
def _dictionary() -> tuple[str, ...]:
    """The dictionary minus names: an unfamiliar capitalised word ("Cheque") that opens a sentence is not
    a name for that reason alone."""
    return tuple(sorted(_all_dictionary_words() - name_words()))


def dictionary_words() -> tuple[str, ...]:
    """Every English word the corpus knows, names included ("page" is a word and a surname), for the
    word-class vectors of `gazetteer`."""
    return tuple(sorted(_all_common_words() | _all_dictionary_words()))


def _word(rng: random.Random) -> str:
    return rng.choice(_vocabulary() if rng.random() < 0.5 else _dictionary())


def _caps(rng: random.Random) -> str:
    """A capitalised phrase of ordinary words ("Account Settings"): capitals alone do not make a name."""
    return " ".join(_word(rng).capitalize() for _ in range(rng.choice((1, 2, 2, 3))))


FIELD_VALUES: tuple[str, ...] = (
    "{FULL}", "{FULL}", "{PERSON}", "{FIRST}", "{LAST}", "{TITLED}", "{CITY}", "{CITY}", "{COUNTRY}",
    "{ADDRESS}", "{STREET}", "{ORG}", "{DATE}", "{DATETIME}", "{TIME}", "{NATIONALITY}", "{RELIGION}", "{TV}",
    "{TV}", "{FILM}", "{CHANNEL}", "{GENRE}", "{PRODUCT}", "{USER_ID}", "{EMAIL}", "{PHONE}", "{IBAN}",
    "{CARD}", "{AMOUNT}", "{NUM}", "{TICKET}", "{NAMEWORD}", "{CAPS}", "{CAPS}",
)  # fmt: skip


def _key(rng: random.Random) -> str:
    word = _word(rng)
    roll = rng.random()
    if roll < 0.3:
        return word
    if roll < 0.5:
        return f"{word}_{_word(rng)}"
    if roll < 0.7:
        return f"{word}{rng.choice(('_name', '_id', '_date', '_city', '_at', '_by', '_type', 'Name'))}"
    return word.capitalize() if roll < 0.9 else f"{word.capitalize()} {_word(rng)}"


def field(rng: random.Random) -> str:
    """A field-like training document: one value, "key: value", a JSON object or a delimited row."""
    roll = rng.random()
    values = [rng.choice(FIELD_VALUES) for _ in range(rng.randint(2, 5))]
    if roll < 0.3:
        text = values[0]
    elif roll < 0.65:
        text = f"{_key(rng)}{rng.choice((': ', ' = ', ': ', ' - ', ' | '))}{values[0]}"
    elif roll < 0.85:
        pairs = ", ".join(f'"{_key(rng)}": "{v}"' for v in values)
        text = "{" + pairs + "}" if rng.random() < 0.7 else pairs.replace('"', "")
    else:
        text = rng.choice(("; ", ", ", " | ", " / ")).join(values)
    return text.replace("{CAPS}", _caps(rng))


def _sentence(lead: str, body: str, rng: random.Random) -> str:
    if lead and not lead.endswith((": ", "- ", "] ")) and body[:1].isupper() and not body.startswith("{"):
        first_word = body.split(" ", 1)[0]
        if first_word not in {"I"} and not first_word.isupper():
            body = body[:1].lower() + body[1:]  # "Yesterday the customer", not "Yesterday The customer"
    text = lead + body
    if rng.random() < CASUAL_SHARE:
        # Chat-style notes: lower-case start, no full stop; the names in them keep their capitals.
        text = rng.choice(CASUAL_LEADS) + text[:1].lower() + text[1:]
        return text + rng.choice(("", "", ",", " ...", " :)", "!!"))
    if text[:1].islower() and rng.random() < 0.9:
        text = text[:1].upper() + text[1:]
    return text + rng.choice(ENDINGS)


def closing(rng: random.Random) -> str:
    return rng.choice(CLOSINGS)
