"""The reply contract between actions and channels (kept free of Rasa imports)."""

# Actions send ``dispatcher.utter_message(text=..., reply_metadata={...})``; the channels in
# ``bot.rasa_server.channels`` deliver it to clients as ``metadata``.
REPLY_METADATA_KEY = "reply_metadata"

# What kind of reply a bot message is; clients style and tests check by it.
ANSWER = "answer"  # a vetted FAQ answer, with answer_id, version and source
HANDOFF = "handoff"  # passed to staff, with reason and contact details
URGENT = "urgent"  # seek emergency care now; an urgent escalation was opened
SMALLTALK = "smalltalk"  # greeting, thanks, goodbye, out of scope
FALLBACK = "fallback"  # not understood: suggestions and an offer of a person
ERROR = "error"  # processing failed; tells the patient how to reach the clinic
CONTACT = "contact"  # how the patient hears back: the choice and the contact form
HUMAN = "human"  # a person joined or left the chat (human mode)
# Written by a staff member, not vetted content: with staff_name; clients render it as text.
STAFF = "staff"
KINDS = (ANSWER, HANDOFF, URGENT, SMALLTALK, FALLBACK, ERROR, CONTACT, HUMAN, STAFF)
