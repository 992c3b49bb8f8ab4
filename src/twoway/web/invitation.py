"""The page an invitation e-mail links to: choose a name and password, then into the inbox."""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from twoway.accounts.services import invitation_accept as accept
from twoway.accounts.services import invitation_for_token
from twoway.accounts.throttling import INVITATIONS, TooManyAttempts
from twoway.core.errors import InvalidInput, NotFound, TwowayError
from twoway.web.settings.accounts_forms import AcceptInvitationForm, add_service_error

_FIELD_BY_CODE = {
    "name_required": "name",
    "name_too_long": "name",
    "invalid_password": "password",
}


@sensitive_post_parameters("password", "password_again")
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        # An address that tried too many unknown links is refused before this one is looked up.
        INVITATIONS.check(request)
        invitation = invitation_for_token(token)
    except TwowayError as exc:
        if isinstance(exc, NotFound):
            INVITATIONS.failed(request)
        response = render(request, "web/invitation.html", {"error": exc.message}, status=exc.status)
        if isinstance(exc, TooManyAttempts):
            response["Retry-After"] = str(exc.retry_after)
        return response
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            membership = accept(
                token=token,
                password=form.cleaned_data["password"],
                name=form.cleaned_data["name"],
            )
        except InvalidInput as exc:
            add_service_error(form, exc, _FIELD_BY_CODE)
        else:
            # Named, so that adding another auth backend one day does not break this login.
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("inbox")
    context = {"invitation": invitation, "form": form}
    return render(request, "web/invitation.html", context, status=422 if form.is_bound else 200)
