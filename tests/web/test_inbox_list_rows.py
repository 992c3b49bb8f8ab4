"""The inbox list's rows, written in Python by `conversation_items` for speed, are what the
template they replaced wrote, byte for byte, in every variant a row has."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import logged_in, make_conversation, make_member
from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.conversations.models import Conversation, Folder
from twoway.conversations.selectors import folder_counts, inbox_page
from twoway.numbers.models import PhoneNumber
from twoway.web.templatetags.twoway import conversation_items

# The rows as a template writes them (`_conversation_list.html` did, before `conversation_items`).
TEMPLATE_ROWS = """{% load twoway %}{% for c in conversations %}
  <li class="conversation-item{% if c.pk == open_id %} open{% endif %}" data-conversation="{{ c.pk }}">
    <input type="checkbox" class="pick" name="conversation" value="{{ c.pk }}" form="bulk-actions" aria-label="Select {{ c.contact.name|default:c.contact_number|phone }}">
    {% url 'conversation' c.pk as page_url %}<a href="{{ page_url }}?folder={{ folder }}{{ filter_query }}"
       hx-get="{% url 'conversation_panel' c.pk %}" hx-push-url="{{ page_url }}?folder={{ folder }}{{ filter_query }}"
       data-open-conversation="{{ c.pk }}"{% if c.pk == open_id %} aria-current="true"{% endif %}>
      <span class="who">{{ c.contact.name|default:c.contact_number|phone }}</span>
      {% if c.unread_count %}<span class="badge unread" title="{{ c.unread_count }} message{{ c.unread_count|pluralize }} since your last reply">{{ c.unread_count }}</span>{% endif %}
      {% if c.muted %}<span class="muted-flag" title="Muted">muted</span>{% endif %}
      <span class="preview">{{ c.last_message_preview }}</span>
      {% if c.assignee %}<span class="assignee-tag" data-assignee>{{ c.assignee.get_full_name|default:c.assignee.email }}</span>{% elif c.assignee_team %}<span class="assignee-tag" data-assignee>Team {{ c.assignee_team.name }}</span>{% endif %}
      {{ c.last_message_at|time_tag }}
    </a>
  </li>
  {% endfor %}"""  # noqa: E501


@pytest.fixture
def rows(org: Organization, number: PhoneNumber, admin: Membership) -> list[Conversation]:
    users = get_user_model().objects
    named = users.create_user(username="kim", email="kim@acme.test", first_name="Kim <K&J>")
    unnamed = users.create_user(username="lee", email="lee@acme.test")
    team = Team.objects.create(organization=org, name='Front "desk" & co')
    at = datetime.datetime(2026, 1, 5, 3, 7, 9, 123456, tzinfo=datetime.UTC)
    variants: list[dict[str, object]] = [
        {"unread_count": 1, "last_message_preview": "<b>Hi</b> & 'you'", "assignee": named},
        {"unread_count": 12, "muted": True, "assignee": unnamed},
        {"assignee_team": team, "last_message_at": None},
        {"contact_number": "+447911123456", "last_message_at": at},
        {"contact_number": "55555"},  # a short code, shown as it is
        {},
    ]
    made = []
    for i, fields in enumerate(variants):
        c = make_conversation(org, number, f"+1415555020{i}")
        Conversation.objects.filter(pk=c.pk).update(**fields)
        made.append(c)
    # One contact with a name to escape, the others named "Client NNNN" or without a name.
    made[0].contact.name = 'Ann <O\'Hara> & "Co"'
    made[0].contact.save()
    for c in made[3:5]:
        c.contact.name = ""
        c.contact.save()
    return made


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_rows_are_what_the_template_wrote(
    rows: list[Conversation], admin: Membership, zone: str
) -> None:
    conversations = inbox_page(admin, Folder.NEEDS_ATTENTION).conversations
    assert len(conversations) == len(rows)
    for open_id, filter_query in [(rows[1].pk, "&assignee=team:3"), ("", ""), (0, "")]:
        context = {
            "conversations": conversations,
            "folder": Folder.NEEDS_ATTENTION,
            "filter_query": filter_query,
            "open_id": open_id,
        }
        with timezone.override(zone):
            expected = Template(TEMPLATE_ROWS).render(Context(context))
            written = conversation_items(
                conversations, Folder.NEEDS_ATTENTION, filter_query, open_id
            )
        assert written == expected


def test_the_list_shows_every_kind_of_row(rows: list[Conversation], admin: Membership) -> None:
    html = logged_in(admin).get(f"/inbox/list/?folder=needs_attention&open={rows[1].pk}")
    page = html.content.decode()
    assert "Ann &lt;O&#x27;Hara&gt; &amp; &quot;Co&quot;" in page
    assert 'title="1 message since your last reply">1</span>' in page
    assert 'title="12 messages since your last reply">12</span>' in page
    assert '<span class="muted-flag" title="Muted">muted</span>' in page
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; &#x27;you&#x27;" in page
    assert "data-assignee>Kim &lt;K&amp;J&gt;</span>" in page
    assert "data-assignee>lee@acme.test</span>" in page
    assert "data-assignee>Team Front &quot;desk&quot; &amp; co</span>" in page
    assert '<span class="who">+44 7911 123456</span>' in page
    assert '<span class="who">55555</span>' in page
    # In the organization's time zone (New York): 03:07 UTC is 22:07 the evening before.
    assert '<time datetime="2026-01-04T22:07:09.123456-05:00">Jan 4, 22:07</time>' in page
    assert '<time datetime=""></time>' in page
    assert f'<li class="conversation-item open" data-conversation="{rows[1].pk}">' in page
    assert f'data-open-conversation="{rows[1].pk}" aria-current="true">' in page
    assert page.count('aria-current="true"') == 1


def test_an_empty_folder_says_so(admin: Membership) -> None:
    page = logged_in(admin).get("/inbox/list/?folder=archived").content.decode()
    assert '<li class="empty">No conversations here.</li>' in page


def test_the_list_reads_neither_balance_nor_notifications(
    rows: list[Conversation], admin: Membership
) -> None:
    """The list partial (re-fetched on every live event) has no top bar; the page has one."""
    client = logged_in(admin)
    for url, top_bar in [("/inbox/list/?folder=needs_attention", False), ("/inbox/", True)]:
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        sql = [query["sql"] for query in captured.captured_queries]
        assert any("billing_smsaccount" in q for q in sql) is top_bar
        assert any("notifications_notification" in q for q in sql) is top_bar
        # The three tabs' counts in one query (`folder_counts` names each count "capped").
        tab_counts = [q for q in sql if ") capped" in q]
        assert len(tab_counts) == 1 and tab_counts[0].count("COUNT(*)") == 3


def test_a_member_without_numbers_sees_empty_folders(
    org: Organization, number: PhoneNumber
) -> None:
    nobody = make_member(org, "nobody@acme.test", Role.LIMITED)
    number.access_everyone = False
    number.save()
    make_conversation(org, number, "+14155550299")
    assert folder_counts(nobody) == dict.fromkeys(Folder.values, 0)
    page = logged_in(nobody).get("/inbox/").content.decode()
    assert '<li class="empty">No conversations here.</li>' in page
    assert '<span class="count" data-count="needs_attention">0</span>' in page
