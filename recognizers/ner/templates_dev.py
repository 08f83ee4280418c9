"""Dev-only templates: written apart from both the training and the held-out templates, in other styles
(longer, chattier, lower-case heavy), so that the dev split measures generalisation to unseen wording.

Training never renders these. The dev split (these plus every sixth training template) picks the best
epoch and is the one whose errors guide work on the corpus; the held-out split is only ever reported.
"""

from __future__ import annotations

SENTENCES: tuple[str, ...] = (
    "just had {PERSON} on the line, she is not happy about the delay at all",
    "so {FIRST} says the tracking page still shows the old address in {CITY}",
    "left two messages, no callback yet from {TITLED}",
    "spent half an hour with {PERSON} going through every line of the bill",
    "the engineer finally turned up at {ADDRESS} around {TIME}",
    "nobody at {ORG} could explain the extra fee to {PERSON}",
    "{PERSON} insists the form was posted from {COUNTRY} weeks ago",
    "after the upgrade the {PRODUCT} keeps rebooting, according to {FIRST}",
    "we agreed with {PERSON} to waive the fee this time",
    "mother of {PERSON} is the account holder, proof of address pending",
    "parcel came back undeliverable from {STREET}, will contact the sender",
    "{PERSON} rather rude on the phone, asked for a supervisor twice",
    "can someone from the {CITY} team take over the case of {TITLED}?",
    "she says her brother {FIRST} lives in {CITY} now and handles the payments",
    "reminder sent to {EMAIL}, no reaction so far",
    "all good now, {PERSON} confirmed the service works again since {DATE}",
    "{TITLED} wants everything in writing from now on",
    "while on the phone {PERSON} mentioned she is {NATIONALITY} and reads English slowly",
    "documents checked by {FIRST} in the back office on {DATE}",
    "the kids apparently watch {TV} every night and the box overheats",
    "{PERSON} thinks {FILM} was charged twice, refund pending",
    "no idea why {CHANNEL} dropped out for {PERSON} at {TIME}",
    "meeting moved: {PERSON} can only do {DATETIME}",
    "{ORG} in {CITY} still has not returned the signed copy",
    "heading to {CITY} next week, {FIRST} will cover my queue",
    "the {NRP} association in {CITY} asked about group discounts",
    "apparently the neighbour, a certain {PERSON}, signed for the parcel",
    "well, {FIRST} tried, but the system would not accept the card",
    "passed to second line, see notes from {PERSON}",
    "customer prefers email over phone, address on file is {ADDRESS}",
    "received with thanks from {TITLED}, {ORG}",
    "tv_show value was {TV}, channel {CHANNEL}, nothing unusual",
    "watched {TV} twice, then {FILM}, no errors reported",
    "quick one: is {PERSON} still with {ORG} or did she move to {COUNTRY}?",
    "honestly no clue what {FIRST} meant by that",
    "Spoke briefly with {PERSON} before lunch.",
    "Booked a technician for {PERSON} on {DATE}, slot {TIME}.",
    "Refund declined because {PERSON} already used the voucher in {CITY}.",
    "Calling back tomorrow, {TITLED} prefers mornings.",
    "Shared the tracking link with {PERSON} via {EMAIL}.",
    # notes that open with a capitalised ordinary word
    "Received a letter from {PERSON} about the broken meter.",
    "Answered {PERSON} by email before {TIME}.",
    "Checked the history: {TITLED} called four times in {DATE}.",
    "Replacement ordered for {PERSON}, arriving at {ADDRESS}.",
    "Outstanding balance for {PERSON} is {AMOUNT}.",
    "Signature missing on the form from {PERSON}.",
    "Insurance claim by {PERSON} rejected on {DATE}.",
    "Cancellation requested by {TITLED} via the app.",
    "Password changed after {PERSON} reported a suspicious login from {COUNTRY}.",
    "Voucher code sent to {PERSON}, valid until {DATE}.",
    "Dispatcher assigned {PERSON} to the job in {CITY}.",
    "Manual review needed: {PERSON} used two different addresses.",
    "Escalation approved; {PERSON} gets a call from the {CITY} team.",
    "Warranty extended for {PERSON} until {DATE}.",
    "Duplicate account found for {PERSON} ({EMAIL}).",
    "Feedback from {PERSON}: the installer was late but friendly.",
    "Waiting list now includes {PERSON} and {PERSON}.",
    "Cheque from {PERSON} bounced on {DATE}.",
    "Overnight the {PRODUCT} lost its settings, says {PERSON}.",
    "Exchange approved for {PERSON}; courier collects it on {DATE}.",
    "Nothing further from {TITLED} since {DATE}.",
    "Thankfully {FIRST} had kept the receipt.",
    "Relatives of {PERSON} asked for access to the account.",
    "Fraud team flagged card {CARD} used by {PERSON} in {CITY}.",
    "Subscription paused at the request of {PERSON}.",
    "Standing order from {PERSON} to {ORG} failed on {DATE}.",
    "Legal hold placed on the account of {PERSON}.",
    "Returned goods from {PERSON} reached the {CITY} depot.",
    "Streaming of {TV} stopped for {PERSON} after the update.",
    "Upon arrival {PERSON} found the door of {ADDRESS} open.",
)

OPENERS: tuple[str, ...] = (
    "hi all,", "morning {FIRST}!", "Hello again {TITLED},", "quick update -", "Greetings,", "Team Billing,",
    "Regarding your letter of {DATE}", "Attention: {TITLED}",
)  # fmt: skip

CLOSERS: tuple[str, ...] = ("ta, {FIRST}", "thanks a lot\n{FULL}", "bye for now, {FULL} ({ORG})")

FIELDS: tuple[str, ...] = (
    "holder: {FULL}", "site = {CITY}", "provider: {ORG}", "series: {TV}", "watched: {FILM}",
    "{FULL} ({CITY})", "{CITY} / {COUNTRY}", "{TITLED}, {ADDRESS}", "Beneficiary: {FULL}",
    "Recipient - {FULL}", "Owner: {ORG}", "Origin: {COUNTRY}", "Venue: {CITY}", "Episode title: {TV}",
)  # fmt: skip
