"""An organization's own keywords (added by admins, acted on like the carrier defaults on both
inbound paths), worded opt-outs waiting for an agent's decision, and `twoway keywords`."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client

from tests.conftest import logged_in
from tests.messaging.test_inbound import auto_replies, contact_of, conversation, receive
from tests.messaging.test_inbound import record as record_text
from twoway.accounts.models import Membership, Organization
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.compliance.keywords_cli import run as keywords_cli
from twoway.compliance.models import ConsentEvent, ConsentEventKind, Keyword
from twoway.compliance.organization_keywords import keyword_add, keyword_remove, keyword_set_of
from twoway.contacts.models import OptInStatus
from twoway.contacts.services import contact_review_opt_out
from twoway.conversations.models import Folder
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.numbers.models import PhoneNumber

# --- Adding and removing ------------------------------------------------------------------------


def test_an_admin_adds_a_keyword_in_its_normalised_form(admin: Membership) -> None:
    added = keyword_add(actor=admin, word="  Parar! ", action="opt_out")

    assert (added.word, added.action) == ("PARAR", "opt_out")
    assert keyword_set_of(admin.organization_id).match("parar") is not None


@pytest.mark.parametrize(
    ("word", "action", "code"),
    [
        ("", "opt_out", "keyword_empty"),
        ("!!! 🙏", "help", "keyword_empty"),
        ("x" * 41, "help", "keyword_too_long"),
        ("stop", "opt_in", "keyword_default"),
        ("\uff28\uff25\uff2c\uff30", "help", "keyword_default"),
        ("Opt-out", "opt_out", "keyword_default"),
    ],
)
def test_refused_keywords_say_why_and_store_nothing(
    admin: Membership, word: str, action: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        keyword_add(actor=admin, word=word, action=action)

    assert refused.value.code == code
    assert not Keyword.objects.exists()


def test_a_keyword_is_added_once_and_the_action_must_be_known(admin: Membership) -> None:
    keyword_add(actor=admin, word="AYUDA", action="help")
    with pytest.raises(InvalidInput, match="one of your keywords already"):
        keyword_add(actor=admin, word="ayuda", action="opt_out")
    with pytest.raises(InvalidInput, match="opt out, opt in or help"):
        keyword_add(actor=admin, word="BAJA", action="delete")
    assert Keyword.objects.count() == 1


def test_only_admins_change_keywords_and_only_their_own(
    admin: Membership, standard: Membership, other_org: Organization
) -> None:
    from tests.conftest import make_member
    from twoway.accounts.models import Role

    with pytest.raises(PermissionDenied):
        keyword_add(actor=standard, word="PARAR", action="opt_out")
    other_admin = make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE)
    theirs = keyword_add(actor=other_admin, word="PARAR", action="opt_out")

    with pytest.raises(NotFound):
        keyword_remove(actor=admin, keyword_id=theirs.pk)
    assert Keyword.objects.filter(pk=theirs.pk).exists()
    # One organization's keyword means nothing to another.
    assert keyword_set_of(admin.organization_id).match("parar") is None


# --- Acted on when texted -----------------------------------------------------------------------


def test_an_own_opt_out_keyword_opts_out_and_confirms(
    org: Organization, number: PhoneNumber, admin: Membership
) -> None:
    keyword_add(actor=admin, word="PARAR", action="opt_out")

    receive(number, "¡Parar!")

    assert contact_of(org).opt_in_status == OptInStatus.OPTED_OUT
    (reply,) = auto_replies()
    assert reply.sent_by_label == "keyword:PARAR"
    assert reply.body.startswith("Acme Dental")
    # Answered by Twoway: not left unread in Needs attention.
    assert conversation(number).unread_count == 0


def test_an_own_keyword_in_a_batch_acts_in_order(
    org: Organization, number: PhoneNumber, admin: Membership
) -> None:
    keyword_add(actor=admin, word="BAJA", action="opt_out")
    record_text(number, "Hola")
    record_text(number, "baja")
    record_text(number, "Una pregunta más")

    assert carrier_events_process_pending() == 3

    assert contact_of(org).opt_in_status == OptInStatus.OPTED_OUT
    assert len(auto_replies()) == 1
    assert conversation(number).unread_count == 2


def test_help_with_a_reply_needs_no_one_and_yes_from_an_opted_in_contact_does(
    org: Organization, number: PhoneNumber
) -> None:
    receive(number, "HELP")
    assert conversation(number).unread_count == 0
    receive(number, "Yes")  # an answer to an agent's question, not a resubscription
    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)


def test_an_earlier_unread_text_stays_unread_after_a_stop(
    org: Organization, number: PhoneNumber
) -> None:
    receive(number, "Can you call me back?")
    receive(number, "STOP")

    convo = conversation(number)
    assert (convo.folder, convo.unread_count) == (Folder.NEEDS_ATTENTION, 1)
    assert convo.last_message_preview  # the thread moved on


# --- Worded opt-outs wait for an agent ----------------------------------------------------------


def test_a_worded_opt_out_waits_on_the_contact_and_in_the_ledger(
    org: Organization, number: PhoneNumber
) -> None:
    receive(number, "I no longer want these texts")
    receive(number, "please lose my number")

    contact = contact_of(org)
    assert contact.opt_in_status == OptInStatus.OPTED_IN
    assert contact.opt_out_flagged_at is not None
    kinds = list(ConsentEvent.objects.filter(contact=contact).values_list("kind", flat=True))
    assert kinds == [ConsentEventKind.OPT_OUT_FLAGGED] * 2
    # It needs a person: unread in Needs attention.
    assert conversation(number).folder == Folder.NEEDS_ATTENTION


def test_confirming_opts_out_once_and_records_who(
    org: Organization, number: PhoneNumber, sam: Membership
) -> None:
    receive(number, "please stop texting me")
    contact = contact_of(org)

    assert contact_review_opt_out(contact=contact, confirmed=True, by=sam)
    assert not contact_review_opt_out(contact=contact, confirmed=False, by=sam)

    contact.refresh_from_db()
    assert contact.opt_in_status == OptInStatus.OPTED_OUT and contact.opt_out_flagged_at is None
    last = ConsentEvent.objects.filter(contact=contact).order_by("-pk").first()
    assert last is not None
    assert (last.kind, last.source) == (ConsentEventKind.OPT_OUT, "manual")
    assert "Sam Rivera" in last.text


def test_dismissing_keeps_the_contact_opted_in_and_a_stop_answers_the_question(
    org: Organization, number: PhoneNumber, sam: Membership
) -> None:
    receive(number, "take me off your list")
    contact = contact_of(org)
    assert contact_review_opt_out(contact=contact, confirmed=False, by=sam)
    contact.refresh_from_db()
    assert contact.opt_in_status == OptInStatus.OPTED_IN and contact.opt_out_flagged_at is None
    assert ConsentEvent.objects.filter(kind=ConsentEventKind.FLAG_DISMISSED).count() == 1

    receive(number, "remove me from this list")
    receive(number, "STOP")
    contact.refresh_from_db()
    assert contact.opt_in_status == OptInStatus.OPTED_OUT
    assert contact.opt_out_flagged_at is None  # the contact's STOP decided it


def test_the_thread_offers_the_decision_and_the_list_shows_it(
    org: Organization, number: PhoneNumber, standard: Membership, other_org: Organization
) -> None:
    from tests.conftest import make_member
    from twoway.accounts.models import Role

    receive(number, "do not text this number")
    convo = conversation(number)
    client = logged_in(standard)

    thread = client.get(f"/inbox/c/{convo.pk}/thread/").content.decode()
    assert "Possible opt-out" in thread and "do not text this number" in thread
    assert "Confirm opt-out" in thread and "Not an opt-out" in thread
    listed = client.get("/inbox/possible-opt-outs/").content.decode()
    assert f'data-conversation="{convo.pk}"' in listed
    assert "Possible opt-outs" in client.get("/inbox/").content.decode()

    # Another organization can neither see nor decide it.
    outsider = logged_in(make_member(other_org, "agent@other.test", Role.ADMINISTRATIVE))
    assert (
        outsider.post(f"/inbox/c/{convo.pk}/opt-out-review/", {"decision": "confirm"}).status_code
        == 404
    )
    assert (
        f'data-conversation="{convo.pk}"'
        not in outsider.get("/inbox/possible-opt-outs/").content.decode()
    )

    answer = client.post(
        f"/inbox/c/{convo.pk}/opt-out-review/", {"decision": "dismiss"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    assert "data-possible-opt-out" not in answer.content.decode()
    assert contact_of(org).opt_in_status == OptInStatus.OPTED_IN
    assert "No possible opt-outs" in client.get("/inbox/possible-opt-outs/").content.decode()


def test_a_decision_must_be_one_of_the_two(
    org: Organization, number: PhoneNumber, standard: Membership
) -> None:
    receive(number, "please stop texting me")
    convo = conversation(number)
    answer = logged_in(standard).post(f"/inbox/c/{convo.pk}/opt-out-review/", {"decision": "maybe"})
    assert answer.status_code == 400
    assert contact_of(org).opt_out_flagged_at is not None


# --- Settings > Keywords ------------------------------------------------------------------------


def test_the_keywords_page_adds_lists_and_removes(admin_client: Client, admin: Membership) -> None:
    page = admin_client.get("/settings/keywords/").content.decode()
    assert "ARRÊT" in page and "AIDE" in page and "OPT OUT" in page

    refused = admin_client.post("/settings/keywords/", {"word": "stop", "action": "opt_out"})
    assert refused.status_code == 422
    assert "carrier keyword" in refused.content.decode()

    added = admin_client.post("/settings/keywords/", {"word": "parar", "action": "opt_out"})
    assert added.status_code == 302
    keyword = Keyword.objects.get()
    assert "PARAR" in admin_client.get("/settings/keywords/").content.decode()

    assert admin_client.post(f"/settings/keywords/{keyword.pk}/delete/").status_code == 302
    assert not Keyword.objects.exists()


def test_the_keywords_page_is_for_admins(standard: Membership) -> None:
    client = logged_in(standard)
    assert client.get("/settings/keywords/").status_code == 403
    assert (
        client.post("/settings/keywords/", {"word": "parar", "action": "opt_out"}).status_code
        == 403
    )
    assert not Keyword.objects.exists()


# --- twoway keywords ----------------------------------------------------------------------------


def test_the_cli_says_what_each_text_would_do(org: Organization, admin: Membership) -> None:
    keyword_add(actor=admin, word="PARAR", action="opt_out")
    texts = [
        "STOP",
        "\uff33\uff34\uff2f\uff30",
        "parar",
        "please stop texting me",
        "Cancel my appointment please",
        "aide",
    ]
    out = io.StringIO()

    status = keywords_cli(
        io.StringIO("".join(json.dumps(t) + "\n" for t in texts) + "42\n{\n"), out, org
    )

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == 1
    assert [line.get("action") for line in lines[:6]] == [
        "opt_out",
        "opt_out",
        "opt_out",
        "flag",
        "none",
        "help",
    ]
    assert lines[0]["keyword"] == "STOP" and lines[0]["default"] is True
    assert lines[2] == {
        "action": "opt_out",
        "keyword": "PARAR",
        "default": False,
        "reply": org.render(org.opt_out_confirmation),
    }
    assert "expected a JSON string" in lines[6]["error"] and "invalid JSON" in lines[7]["error"]

    # Without an organization, the carrier defaults only.
    plain = io.StringIO()
    assert keywords_cli(io.StringIO('"parar"\n'), plain, None) == 0
    assert json.loads(plain.getvalue()) == {"action": "none"}
