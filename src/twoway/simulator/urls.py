from django.urls import path

from twoway.simulator import views

app_name = "simulator"
urlpatterns = [
    path("", views.index, name="index"),
    path("carrier/", views.carrier_console, name="carrier"),
    path("<str:number>/", views.phone, name="phone"),
    path("<str:number>/screen/", views.phone_messages, name="screen"),
    path("<str:number>/send/", views.phone_send, name="send"),
    path("<str:number>/behaviour/", views.phone_behaviour, name="behaviour"),
    path("<str:number>/media/<uuid:sid>/<int:index>/", views.phone_media, name="media"),
]
