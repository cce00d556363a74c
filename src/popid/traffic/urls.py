"""Pages of popid.traffic, mounted at /phat-nguoi/."""

from django.urls import path

from popid.traffic import views

app_name = "traffic"
urlpatterns = [
    path("", views.pay, name="pay"),
    path("thanh-toan/<str:order_id>/ket-qua/", views.payment_return, name="payment_return"),
    path("xac-minh/<str:token>/", views.verify, name="verify"),
    path("can-bo/", views.queue, name="queue"),
    path("can-bo/khieu-nai/<int:pk>/", views.decide_appeal, name="decide_appeal"),
    path("can-bo/thong-ke/", views.statistics_page, name="statistics"),
    path("can-bo/<int:pk>/", views.detection_detail, name="detection"),
    path("can-bo/<int:pk>/anh/<int:image>/", views.officer_image, name="officer_image"),
    path("can-bo/<int:pk>/quyet-dinh.pdf", views.officer_pdf, name="officer_pdf"),
    path("cua-toi/", views.my_fines, name="my_fines"),
    path("cua-toi/de-nghi/<int:pk>/", views.answer_nomination, name="answer_nomination"),
    path("cua-toi/<path:number>/khieu-nai/", views.file_appeal, name="file_appeal"),
    path("cua-toi/<path:number>/nguoi-dieu-khien/", views.name_driver, name="name_driver"),
    path("cua-toi/<path:number>/anh/<int:image>/", views.my_image, name="my_image"),
    path("cua-toi/<path:number>/quyet-dinh.pdf", views.my_pdf, name="my_pdf"),
]
