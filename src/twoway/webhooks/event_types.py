"""The event types an endpoint can subscribe to, and what each one's `data` holds.

Every body is the Standard Webhooks envelope `{"type", "timestamp", "data"}`; docs/webhooks.md
lists each type's fields. The types are those Twoway records as facts: a text received, a text
handed to the carrier, a delivery report, a contact opting out or back in.
"""

from __future__ import annotations

MESSAGE_RECEIVED = "message.received"
MESSAGE_SENT = "message.sent"
MESSAGE_STATUS = "message.status"
CONTACT_OPTED_OUT = "contact.opted_out"
CONTACT_OPTED_IN = "contact.opted_in"
# Sent only by "Send test event", to one endpoint, whatever it subscribed to.
TEST = "webhook.test"

EVENT_TYPES: dict[str, str] = {
    MESSAGE_RECEIVED: "A client's text came in",
    MESSAGE_SENT: "A text was handed to the carrier",
    MESSAGE_STATUS: "A text's delivery report: delivered, undelivered or failed",
    CONTACT_OPTED_OUT: "A contact opted out (STOP, by hand, the API, an import)",
    CONTACT_OPTED_IN: "A contact opted back in",
}

# The delivery reports `message.status` carries.
REPORTED_STATUSES = frozenset({"delivered", "undelivered", "failed"})
