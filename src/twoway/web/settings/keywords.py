"""Settings, Keywords: the carrier keywords every organization has, and the organization's own,
which administrators add and remove."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership
from twoway.compliance.keywords import DEFAULT_KEYWORDS, KeywordAction
from twoway.compliance.models import Keyword, KeywordActionChoice
from twoway.compliance.organization_keywords import keyword_add, keyword_remove
from twoway.core.errors import InvalidInput

ACTION_ORDER = (KeywordAction.OPT_OUT, KeywordAction.OPT_IN, KeywordAction.HELP)


def _defaults() -> list[tuple[str, list[str]]]:
    labels = dict(KeywordActionChoice.choices)
    return [
        (labels[action.value], sorted(w for w, a in DEFAULT_KEYWORDS.items() if a is action))
        for action in ACTION_ORDER
    ]


def _page(
    request: HttpRequest, membership: Membership, status: int = 200, **extra: object
) -> HttpResponse:
    context = {
        "membership": membership,
        "organization": membership.organization,
        "defaults": _defaults(),
        "keywords": Keyword.objects.filter(organization_id=membership.organization_id),
        "actions": KeywordActionChoice.choices,
        **extra,
    }
    return render(request, "web/settings/keywords.html", context, status=status)


@member_view
def keywords(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The list; POST adds one of the organization's own."""
    require_admin(membership)
    if request.method != "POST":
        return _page(request, membership)
    word, action = request.POST.get("word", ""), request.POST.get("action", "")
    try:
        added = keyword_add(actor=membership, word=word, action=action)
    except InvalidInput as exc:
        return _page(request, membership, 422, error=exc.message, word=word, action=action)
    messages.success(
        request, f"{added.word} now means {added.get_action_display().lower()} for your clients."
    )
    return redirect("settings_keywords")


@require_POST
@member_view
def keyword_delete(request: HttpRequest, membership: Membership, keyword_id: int) -> HttpResponse:
    keyword_remove(actor=membership, keyword_id=keyword_id)
    messages.success(request, "The keyword is removed.")
    return redirect("settings_keywords")
