"""Who may see and change an organization's keyword rules: its administrators, and only its
own."""

from __future__ import annotations

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership
from twoway.answering.models import KeywordRule
from twoway.core.errors import NotFound


def access_keyword_rule(membership: Membership, rule_id: int) -> KeywordRule:
    require_admin(membership)
    rule = KeywordRule.objects.filter(pk=rule_id, organization_id=membership.organization_id)
    found = rule.select_related("response", "phone_number").first()
    if found is None:
        raise NotFound("No such keyword rule in your organization.")
    return found
