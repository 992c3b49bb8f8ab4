"""Plain-language explanations of carrier error codes (the codes are Twilio's, which most
carriers' documentation and our simulator share)."""

from __future__ import annotations

EXPLANATIONS = {
    "21211": "The number is not a valid phone number.",
    "21408": "Texting this country is not enabled for the sending account.",
    "21610": "The recipient unsubscribed (replied STOP) at the carrier; texts to them are blocked.",
    "21612": "The carrier cannot route texts between these two numbers.",
    "21614": "The number is not a mobile number and cannot receive texts.",
    "30003": "The recipient's phone is unreachable (switched off or out of coverage).",
    "30004": "The recipient has blocked messages from this sender.",
    "30005": "The number does not exist or is no longer in service.",
    "30006": "The number is a landline or cannot receive texts.",
    "30007": "The carrier filtered the message as spam.",
    "30008": "The carrier could not deliver the message for an unknown reason.",
    "30034": "The sending number is not registered for A2P 10DLC messaging in the US.",
    "config": "The carrier is not configured: check its credentials in the settings.",
    "expired": "The carrier could not be reached for too long; the message was given up.",
    "no_sender": "The number it was to be sent from has been removed from Twoway.",
}


def explain(code: str) -> str:
    if not code:
        return ""
    return EXPLANATIONS.get(code, f"The carrier reported error {code}.")
