from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from twoway.web import (
    canned,
    contact_chat,
    contact_export,
    contact_import,
    contact_merge,
    contact_suggestions,
    contacts,
    conversation_actions,
    failed,
    health,
    inbox,
    invitation,
    notifications,
    opt_out_review,
    search,
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="inbox"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invite/<str:token>/", invitation.invitation_accept, name="invitation_accept"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/alerts/", notifications.alerts_save, name="alerts_save"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/list/", inbox.conversation_list, name="conversation_list"),
    path("inbox/bulk/", inbox.conversations_bulk, name="conversations_bulk"),
    path("inbox/new/", inbox.new_conversation, name="new_conversation"),
    path("inbox/new/suggestions/", contact_suggestions.to_suggestions, name="to_suggestions"),
    path("inbox/counter/", inbox.composer_counter, name="composer_counter"),
    path("inbox/c/<int:conversation_id>/", inbox.conversation_detail, name="conversation"),
    path(
        "inbox/c/<int:conversation_id>/panel/",
        inbox.conversation_panel,
        name="conversation_panel",
    ),
    path(
        "inbox/c/<int:conversation_id>/header/",
        inbox.conversation_header,
        name="conversation_header",
    ),
    path(
        "inbox/c/<int:conversation_id>/thread/",
        inbox.conversation_thread,
        name="conversation_thread",
    ),
    path("inbox/c/<int:conversation_id>/send/", inbox.conversation_send, name="conversation_send"),
    path("inbox/c/<int:conversation_id>/note/", inbox.conversation_note, name="conversation_note"),
    path(
        "inbox/c/<int:conversation_id>/retry/<uuid:uid>/",
        failed.message_retry,
        name="message_retry",
    ),
    path(
        "inbox/c/<int:conversation_id>/canned/",
        canned.canned_picker,
        name="canned_picker",
    ),
    path(
        "inbox/c/<int:conversation_id>/canned/<int:canned_id>/",
        canned.canned_fill,
        name="canned_fill",
    ),
    path("inbox/failed/", failed.failed_list, name="failed"),
    path("inbox/possible-opt-outs/", opt_out_review.possible_opt_outs, name="possible_opt_outs"),
    path(
        "inbox/c/<int:conversation_id>/opt-out-review/",
        opt_out_review.conversation_opt_out_review,
        name="conversation_opt_out_review",
    ),
    path("inbox/failed/retry/", failed.failed_retry, name="failed_retry"),
    path(
        "inbox/c/<int:conversation_id>/archive/",
        conversation_actions.conversation_archive_view,
        name="conversation_archive",
    ),
    path(
        "inbox/c/<int:conversation_id>/unarchive/",
        conversation_actions.conversation_unarchive_view,
        name="conversation_unarchive",
    ),
    path(
        "inbox/c/<int:conversation_id>/unread/",
        conversation_actions.conversation_unread_view,
        name="conversation_unread",
    ),
    path(
        "inbox/c/<int:conversation_id>/mute/",
        conversation_actions.conversation_mute_view,
        name="conversation_mute",
    ),
    path(
        "inbox/c/<int:conversation_id>/unmute/",
        conversation_actions.conversation_unmute_view,
        name="conversation_unmute",
    ),
    path(
        "inbox/c/<int:conversation_id>/assign/",
        conversation_actions.conversation_assign_view,
        name="conversation_assign",
    ),
    path(
        "inbox/c/<int:conversation_id>/delete/",
        conversation_actions.conversation_delete_view,
        name="conversation_delete",
    ),
    path(
        "inbox/c/<int:conversation_id>/export/",
        conversation_actions.conversation_export_view,
        name="conversation_export",
    ),
    path("search/", search.search, name="search"),
    path("contacts/", contacts.contact_list, name="contacts"),
    path("contacts/export/", contact_export.contact_export_create, name="contact_export_create"),
    path(
        "contacts/duplicates/",
        contact_merge.contact_duplicates_list,
        name="contact_duplicates",
    ),
    path(
        "contacts/export/<int:export_id>/",
        contact_export.contact_export_page,
        name="contact_export",
    ),
    path(
        "contacts/export/<int:export_id>/progress/",
        contact_export.contact_export_progress,
        name="contact_export_progress",
    ),
    path(
        "contacts/export/<int:export_id>/download/",
        contact_export.contact_export_download,
        name="contact_export_download",
    ),
    path("contacts/<int:contact_id>/", contacts.contact_card, name="contact"),
    path("contacts/<int:contact_id>/chat/", contact_chat.contact_chat, name="contact_chat"),
    path(
        "contacts/<int:contact_id>/merge/",
        contact_merge.contact_merge_find,
        name="contact_merge_find",
    ),
    path(
        "contacts/<int:contact_id>/merge/<int:other_id>/",
        contact_merge.contact_merge_confirm,
        name="contact_merge",
    ),
    path(
        "contacts/<int:contact_id>/chat/start/",
        contact_chat.contact_chat_start,
        name="contact_chat_start",
    ),
    path("contacts/import/", contact_import.contact_import_upload, name="contact_import_upload"),
    path(
        "contacts/import/<int:import_id>/",
        contact_import.contact_import_detail,
        name="contact_import",
    ),
    path(
        "contacts/import/<int:import_id>/progress/",
        contact_import.contact_import_progress,
        name="contact_import_progress",
    ),
    path(
        "contacts/import/<int:import_id>/errors.csv",
        contact_import.contact_import_errors,
        name="contact_import_errors",
    ),
]
