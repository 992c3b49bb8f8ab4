from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership


@member_view
def settings_index(request: HttpRequest, membership: Membership) -> HttpResponse:
    require_admin(membership)
    return render(request, "web/settings/index.html", {"membership": membership})
