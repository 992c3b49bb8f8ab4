"""Settings, Teams: groups of people, given access to numbers as one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from twoway.accounts.access import require_admin
from twoway.accounts.decorators import member_view
from twoway.accounts.models import Membership, Team
from twoway.accounts.selectors import access_team, organization_teams
from twoway.accounts.services import team_create, team_delete, team_update
from twoway.core.errors import InvalidInput
from twoway.web.settings.accounts_forms import TeamForm, add_service_error

_FIELD_BY_CODE = {"name_required": "name", "name_too_long": "name", "name_taken": "name"}


def _teams_page(
    request: HttpRequest,
    membership: Membership,
    *,
    new_form: TeamForm | None = None,
    bound: TeamForm | None = None,
    bound_team_id: int | None = None,
    status: int = 200,
) -> HttpResponse:
    org_id = membership.organization_id
    teams = [
        (
            team,
            bound
            if team.pk == bound_team_id and bound is not None
            else TeamForm(organization_id=org_id, team=team, prefix=f"team-{team.pk}"),
        )
        for team in organization_teams(org_id)
    ]
    context = {
        "membership": membership,
        "teams": teams,
        "new_form": new_form or TeamForm(organization_id=org_id, prefix="new"),
    }
    return render(request, "web/settings/teams.html", context, status=status)


@member_view
def teams(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The list of teams (GET) and a new team (POST)."""
    require_admin(membership)
    if request.method != "POST":
        return _teams_page(request, membership)
    form = TeamForm(request.POST, organization_id=membership.organization_id, prefix="new")
    if form.is_valid():
        try:
            team = team_create(
                actor=membership,
                organization=membership.organization,
                name=form.cleaned_data["name"],
                members=form.cleaned_data["members"],
            )
        except InvalidInput as exc:
            add_service_error(form, exc, _FIELD_BY_CODE)
        else:
            messages.success(request, f"Team “{team.name}” created.")
            return redirect(reverse("settings_teams") + f"#team-{team.pk}")
    return _teams_page(request, membership, new_form=form, status=422)


@require_POST
@member_view
def team_edit(request: HttpRequest, membership: Membership, team_id: int) -> HttpResponse:
    team = access_team(membership, team_id)
    form = TeamForm(
        request.POST, organization_id=membership.organization_id, prefix=f"team-{team.pk}"
    )
    if form.is_valid():
        try:
            team_update(
                actor=membership,
                team=team,
                name=form.cleaned_data["name"],
                members=form.cleaned_data["members"],
            )
        except InvalidInput as exc:
            add_service_error(form, exc, _FIELD_BY_CODE)
        else:
            messages.success(request, f"Team “{team.name}” saved.")
            return redirect(reverse("settings_teams") + f"#team-{team.pk}")
    # Show the name the team has now, not the one that was refused.
    team.refresh_from_db()
    return _teams_page(request, membership, bound=form, bound_team_id=team.pk, status=422)


@require_POST
@member_view
def team_remove(request: HttpRequest, membership: Membership, team_id: int) -> HttpResponse:
    team: Team = access_team(membership, team_id)
    name = team.name
    team_delete(actor=membership, team=team)
    messages.success(request, f"Team “{name}” deleted.")
    return redirect("settings_teams")
