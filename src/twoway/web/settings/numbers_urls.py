from django.urls import path

from twoway.web.settings import numbers

urlpatterns = [
    path("numbers/", numbers.numbers_list, name="settings_numbers"),
    path("numbers/add/", numbers.number_add_view, name="settings_number_add"),
    path("numbers/<int:number_id>/", numbers.number_edit, name="settings_number_edit"),
    path(
        "numbers/<int:number_id>/verification/",
        numbers.number_verification_view,
        name="settings_number_verification",
    ),
    path(
        "numbers/<int:number_id>/release/",
        numbers.number_release_view,
        name="settings_number_release",
    ),
]
