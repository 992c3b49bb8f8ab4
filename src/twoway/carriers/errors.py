"""Plain-language explanations of carrier error codes. The shared codes are Twilio's, which our
simulator uses too; other carriers' adapters map their codes onto them where one means the same,
and keep the rest as "<carrier>:<code>" (telnyx:40004, vonage:1250)."""

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
    "telnyx:40004": "The recipient's carrier rejected the message without saying why.",
    "telnyx:40005": "The message expired before the recipient's carrier could deliver it.",
    "telnyx:40009": "The carrier refused the message's text (characters or encoding).",
    "telnyx:40013": "The sending number cannot send through Telnyx (check it is in the profile).",
    "telnyx:40305": "The sending number is not a valid Telnyx sender.",
    "telnyx:order": "Telnyx could not fulfil the order for that number.",
    "vonage:1000": "Vonage is throttling this account's sends.",
    "vonage:1020": "Vonage refused the message as malformed.",
    "vonage:1240": "The number is not a valid phone number.",
    "vonage:1250": "Vonage cannot route texts to this number.",
    "vonage:420": "Vonage could not complete that (the number is taken, or the balance is low).",
    "config": "The carrier is not configured: check its credentials in the settings.",
    "expired": "The carrier could not be reached for too long; the message was given up.",
    "no_sender": "The number it was to be sent from has been removed from Twoway.",
}


def explain(code: str) -> str:
    if not code:
        return ""
    if code in EXPLANATIONS:
        return EXPLANATIONS[code]
    carrier, _, own = code.partition(":")
    if own:
        return f"{carrier.capitalize()} reported error {own}."
    return f"The carrier reported error {code}."
