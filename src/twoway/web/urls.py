from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from twoway.web import health, inbox, invitation

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invite/<str:token>/", invitation.invitation_accept, name="invitation_accept"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/list/", inbox.conversation_list, name="conversation_list"),
    path("inbox/new/", inbox.new_conversation, name="new_conversation"),
    path("inbox/counter/", inbox.composer_counter, name="composer_counter"),
    path("inbox/c/<int:conversation_id>/", inbox.conversation_detail, name="conversation"),
    path(
        "inbox/c/<int:conversation_id>/thread/",
        inbox.conversation_thread,
        name="conversation_thread",
    ),
    path("inbox/c/<int:conversation_id>/send/", inbox.conversation_send, name="conversation_send"),
    path("inbox/c/<int:conversation_id>/note/", inbox.conversation_note, name="conversation_note"),
]
