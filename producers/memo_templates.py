"""Sentence templates for memos. Slots are named in `producers.memo.ENTITY_OF_SLOT` (personal data, with
its entity) and `FILLER_SLOTS` (no personal data: amounts, ticket numbers, products, TV show titles).

A memo is one opening, two to four middle sentences and sometimes a closing, so a few dozen sentences
give thousands of distinct memo shapes. Names appear at sentence starts, mid-sentence, after titles and in
possessives; TV show titles that look like names appear as non-personal filler.
"""

OPENINGS: tuple[str, ...] = (
    "Call from {customer} on {date} regarding the {product}.",
    "Customer {customer} phoned the hotline about ticket {ticket}.",
    "{customer} contacted us by e-mail from {customer_email} on {date}.",
    "Spoke with {customer} (born {dob}) to verify the account.",
    "Note by {agent}: the customer {customer} came into the branch in {city}.",
    "Follow-up on ticket {ticket} for {customer}, opened on {date}.",
    "Incoming call from {phone}; the caller gave the name {customer}.",
    "Complaint received from {customer}, who lives at {address}.",
    "Dr. {customer} asked us to update the contact details on file.",
    "Customer {customer} wrote to complain about the {product}.",
    "Chat transcript summary: {customer} reported a problem with the {product} on {date}.",
    "Escalated by {agent} after a long call with {customer}.",
)

MIDDLES: tuple[str, ...] = (
    "Refund of {amount} to be sent to IBAN {iban}.",
    "The customer asked us to change the direct debit account to {iban}.",
    "{customer_first} confirmed that the payment of {amount} left the account {iban} on {date2}.",
    "Best number to call back is {phone}, or {phone2} in the evening.",
    "Please call {customer_first} back on {phone} before noon.",
    "New postal address: {address}.",
    "The parcel was returned because nobody was home at {street}.",
    "The technician visited {street} in {city} on {date2} but could not get in.",
    "{customer_first} moved to {city} last month and wants the contract transferred.",
    "Date of birth on file is {dob}, which matches the ID card shown.",
    "Send the signed form to {email} and copy {customer_email}.",
    "The confirmation e-mail went to {email} instead of {customer_email}.",
    "A family member, {relative}, is authorised to speak on the customer's behalf.",
    "The documents will be picked up by {relative}.",
    "{relative} called as well and gave the same number, {phone}.",
    "Customer is travelling to {country} until {date2} and cannot be reached by phone.",
    "The card was used in {country} on {date2}, which the customer disputes.",
    "While on hold, {customer_first} mentioned watching {show} and missing the last episode.",
    "The customer said {show} was the reason for upgrading the TV package.",
    "Agent {agent} promised a callback within {minutes} minutes.",
    "{agent} waived the late fee of {amount} as a goodwill gesture.",
    "The invoice dated {date2} shows {amount} more than agreed.",
    "We checked the records of {customer}: last payment received on {date2}.",
    "The meter reading was submitted on {date2} from {address}.",
    "A letter was sent to {customer} at {address} on {date2}.",
    "According to {customer_first}, the appointment on {date2} was never confirmed.",
    "Account holder {customer}, IBAN {iban}, requested a statement for {date2}.",
    "Identity checked against the registered phone {phone} and e-mail {customer_email}.",
    "The courier will collect the device from {street}, {city}.",
    "{customer_first} asked whether {relative} could be added to the {product}.",
)

CLOSINGS: tuple[str, ...] = (
    "Ticket {ticket} closed by {agent}.",
    "Next review on {date2}.",
    "Customer satisfied; no further action.",
    "Escalated to second line; {agent} will follow up by e-mail to {customer_email}.",
    "Reminder set to call {customer_first} again on {phone}.",
    "Case handed over to the {city} office.",
)
