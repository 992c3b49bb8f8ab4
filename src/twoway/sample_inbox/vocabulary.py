"""The words a generated inbox is made of: names, items, days, message templates and a vocabulary
for search, plus a few rare words planted in known conversations."""

from __future__ import annotations


def _words(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


FIRST_NAMES = _words(
    "Ana Ben Carla Dmitri Elena Farah Gus Hana Ivan Jade Kofi Lena Marco Nadia Omar Priya "
    "Quinn Rosa Sam Tariq Uma Vera Wes Xena Yusuf Zoe Alex Bea Chen Dev Eva Finn Gia Hugo Iris "
    "Jon Kai Lia Max Noor Otto Pia Raj Sofia Tom Ugo Val Will Yara Zack"
)
LAST_NAMES = _words(
    "Adams Baker Costa Diaz Evans Fischer Garcia Hughes Ito Jensen Khan Lopez Meyer Nguyen "
    "Okafor Patel Quint Rossi Smith Tanaka Ueda Vargas Walsh Xu Young Zimmer Brown Clarke Dubois "
    "Eriksen Ferreira Gomez Horvat Ivanova Jovanovic Kowalski Larsen Moreau Novak Olsen Petrov"
)
ITEMS = _words(
    "cleaning,filling,checkup,crown,x-ray,consultation,whitening,follow-up visit,estimate,"
    "invoice,prescription,brace adjustment,root canal,implant review,night guard"
    ",",
)
DAYS = _words("Monday Tuesday Wednesday Thursday Friday Saturday tomorrow today")
INBOUND = (
    "Hi, can I move my appointment to {day} at {time}?",
    "Running about 10 minutes late, sorry!",
    "Is my {item} still on for {day}?",
    "Thanks so much 👍",
    "What time do you open {day}? I need to drop off the forms.",
    "ok",
    "Yes that works",
    "Can you send me the {item} details again? Order {code}",
    "Do you take insurance for the {item}?",
    "I have to cancel my appointment on {day}, can we reschedule?",
    "Who is this?",
    "Great, see you {day}",
    "How much will the {item} cost?",
    "My {item} is still sore, is that normal?",
)
OUTBOUND = (
    "Hi {first}, this is a reminder of your appointment on {day} at {time}.",
    "Sure, {day} at {time} is booked for your {item}.",
    "Your {item} is confirmed. Reply C to confirm or call us to reschedule.",
    "Thanks {first}! Your reference is {code}.",
    "We open at 8am {day}. See you then!",
    "The {item} is about $120 before insurance; we will send the estimate {code}.",
    "No problem, we moved your appointment to {day}.",
    "That is normal for a few days after a {item}. Call us if it gets worse.",
    "Hi {first}, we have an opening {day} at {time} if you want it.",
)
NOTES = (
    "Called {first}, left a voicemail about the {item}.",
    "Prefers texts over calls. Insurance on file.",
    "Asked for the {item} estimate, sent by e-mail.",
)
# Words of a sentence sometimes added to a text: drawn with Zipf-like weights, so a search
# finds some of them everywhere and others rarely.
VOCABULARY = _words(
    "please thanks parking weekend kids school work schedule morning afternoon evening "
    "insurance card payment receipt refund balance address directions downtown office "
    "reception doctor hygienist nurse pain tooth gums sensitive cold hot coffee dinner lunch "
    "vacation travel flight delayed traffic rain snow holiday birthday daughter son husband "
    "wife mother father neighbor colleague friend referral review website portal password "
    "email voicemail callback urgent earliest latest flexible availability waitlist "
    "cancellation deposit copay deductible claim coverage plan premium network provider "
    "specialist orthodontist periodontist anesthesia numbness swelling antibiotics ibuprofen "
    "floss mouthwash toothbrush electric retainer aligner invisalign bracket wire elastic"
)
# Rare words planted in a few known conversations each (see `planted`).
PLANTED_WORDS = ("quetzal", "marzipan", "zeppelin")
PLANTED_PER_WORD = 3
