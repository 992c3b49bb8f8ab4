from django.urls import path

from twoway.web.settings import organization, people, teams

urlpatterns = [
    path("users/", people.users, name="settings_users"),
    path("users/invite/", people.user_invite, name="settings_user_invite"),
    path("users/<int:membership_id>/", people.user_update, name="settings_user_update"),
    path(
        "users/<int:membership_id>/deactivate/",
        people.user_deactivate,
        name="settings_user_deactivate",
    ),
    path(
        "users/<int:membership_id>/reactivate/",
        people.user_reactivate,
        name="settings_user_reactivate",
    ),
    path(
        "invitations/<int:invitation_id>/cancel/",
        people.invitation_cancel,
        name="settings_invitation_cancel",
    ),
    path("teams/", teams.teams, name="settings_teams"),
    path("teams/<int:team_id>/", teams.team_edit, name="settings_team_update"),
    path("teams/<int:team_id>/delete/", teams.team_remove, name="settings_team_delete"),
    path("organization/", organization.organization_settings, name="settings_organization"),
]
