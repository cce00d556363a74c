from django.urls import path

from popid.records import views

app_name = "records"

urlpatterns = [
    path("cong-an/so-hoa/", views.record_list, name="list"),
    path("cong-an/so-hoa/tai-len/", views.upload, name="upload"),
    path("cong-an/so-hoa/tien-do/", views.progress, name="progress"),
    path("cong-an/so-hoa/<int:pk>/", views.record_detail, name="record"),
    path("cong-an/so-hoa/<int:pk>/tep/", views.scan, name="scan"),
    path("cong-an/so-hoa/<int:pk>/<slug:action>/", views.record_action, name="record_action"),
    path("cong-an/tim-kiem/", views.search, name="search"),
]
