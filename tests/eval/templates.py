"""Document shapes of the independent evaluation set, written by hand for it alone.

Slots: {PERSON} {PERSON2} (a person, in one of many written forms), {ADDRESS} (a postal address, often on
several lines), {TOWN}, {PHONE}, {PHONE2}, {DATE}, {DOB}, {CARD}, {NRP}, {EMAIL}, and the non-personal
fillers {SHOW} (a TV title that may look like a name), {ORDER}, {MONEY}; {CLOCK} is a time of day (DATE_TIME).
None of these shapes is taken from deid's memo producer or its NER training templates; a test keeps it so.
"""

from __future__ import annotations

DOCUMENTS: tuple[str, ...] = (
    # messages and chats
    "hey, its {PERSON} here. can u ring me on {PHONE} after {CLOCK}? cheers",
    "Hi team,\n\nplease send the spare key to {PERSON}, {ADDRESS}.\n\nThanks!",
    "{PERSON}: running late, stuck near {TOWN}. Call {PHONE} if urgent.",
    "msg from {PERSON} >> my new number is {PHONE}, old one is dead",
    "Good morning! {PERSON} and {PERSON2} are joining the call on {DATE}.",
    "Whatsapp from {PERSON}: binge-watched {SHOW} all weekend, will pay on {DATE}.",
    "Quick q - is {PERSON} still at {ADDRESS}? post keeps bouncing.",
    # forms and records
    "Name: {PERSON}\nDate of birth: {DOB}\nPhone: {PHONE}\nAddress:\n{ADDRESS}",
    "APPLICANT {PERSON} | DOB {DOB} | NATIONALITY {NRP} | TEL {PHONE}",
    "Patient: {PERSON}\nSeen on: {DATE}\nReferred by: {PERSON2}\nContact: {PHONE}",
    "Card holder: {PERSON}\nCard no.: {CARD}\nValid from: {DATE}",
    "Shipping label\n{PERSON}\n{ADDRESS}\nTel. {PHONE}",
    "Emergency contact - {PERSON2} ({PHONE2}); primary - {PERSON} ({PHONE}).",
    "Guest list: {PERSON}, {PERSON2}. Arrival {DATE}, departure {DATE}.",
    "Order {ORDER} for {PERSON}, paid {MONEY} with card {CARD}.",
    # reports and notes
    "On {DATE} at about {CLOCK} officers spoke to {PERSON}, a {NRP} national living in {TOWN}.",
    "{PERSON} was born on {DOB} and has lived at {ADDRESS} since {DATE}.",
    "The tenant, {PERSON}, reported a leak on {DATE}; the landlord {PERSON2} can be reached on {PHONE}.",
    "Meeting notes ({DATE}): {PERSON} presented, {PERSON2} took minutes.",
    "Interviewed {PERSON} (tel {PHONE}), who described herself as {NRP}.",
    "Delivery attempted {DATE} at {ADDRESS}; nobody answered. Left a card for {PERSON}.",
    "Referral: {PERSON}, {DOB}, practising {NRP}, requests a vegetarian diet.",
    "Driver {PERSON} collected the parcel from {TOWN} on {DATE}.",
    "Witness statement taken from {PERSON} on {DATE}. Mobile {PHONE}. Home address {ADDRESS}.",
    "{PERSON} disputes a charge of {MONEY} on card {CARD} dated {DATE}.",
    "Her brother {PERSON2} said {PERSON} moved to {TOWN} in {DATE}.",
    # emails
    "Dear {PERSON},\n\nYour appointment is confirmed for {DATE} at {CLOCK}. "
    "If you cannot attend, ring {PHONE}.\n\nKind regards,\n{PERSON2}",
    "From: {EMAIL}\nTo: {PERSON}\nSubject: {SHOW} marathon\n\nAre we still on for {DATE}?",
    "Hello {PERSON},\nwe have updated the delivery address to:\n{ADDRESS}\nBest,\n{PERSON2}",
    "Dear Sir or Madam, I, {PERSON}, of {ADDRESS}, authorise {PERSON2} to act for me from {DATE}.",
    "Hi {PERSON} - the invoice for order {ORDER} ({MONEY}) was charged to {CARD}. Questions? {PHONE}",
    # free prose
    "My name is {PERSON} and I am writing about my late father, {PERSON2}, who died on {DATE}.",
    "i am {PERSON}, {NRP}, born {DOB}, reachable at {EMAIL} or {PHONE}",
    "We watched {SHOW} with {PERSON} last night; {PERSON2} hated it.",
    "{SHOW} is back on {DATE}! {PERSON} says the new season is better.",
    "According to {PERSON}, the {NRP} community centre on {ADDRESS} opens on {DATE}.",
    "Please transfer the deposit to {PERSON} before {DATE}; card {CARD} will not be charged.",
    "Lost wallet found near {TOWN}. Owner: {PERSON}, card ending {CARD}. Phone {PHONE}.",
    "Booked a table for {PERSON} on {DATE} at {CLOCK}; confirmation sent to {EMAIL}.",
    "Thanks to {PERSON} for the lift from {TOWN}!",
    # no personal data at all, or only look-alikes
    "The series {SHOW} returns for a new season in spring.",
    "Order {ORDER} was shipped; total {MONEY}. Track it online.",
    "Reminder: the office is closed for maintenance; reopening at {CLOCK}.",
    "Everyone agreed that {SHOW} was the best programme of the year.",
)
