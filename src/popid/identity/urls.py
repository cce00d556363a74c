from django.urls import path

from popid.identity import officer_views, views

app_name = "identity"
urlpatterns = [
    path("dang-ky/", views.register, name="register"),
    path("xac-thuc-otp/", views.otp, name="otp"),
    path("dang-nhap/", views.login_view, name="login"),
    path("xac-thuc-nang-cao/", views.step_up, name="step_up"),
    path("dang-xuat/", views.logout_view, name="logout"),
    path("quen-mat-khau/", views.recover, name="recover"),
    path("mo-khoa/", views.unlock, name="unlock"),
    path("", views.profile, name="profile"),
    path("giam-ho/", views.add_ward, name="add_ward"),
    path("thao-tac-thay/", views.act_as, name="act_as"),
    path("thiet-bi/", views.devices, name="devices"),
    path("dong-y/", views.consents, name="consents"),
    path("lich-su/", views.history, name="history"),
    path("bao-mat/", views.security, name="security"),
    path("bao-mat/totp.svg", views.totp_qr, name="totp_qr"),
    path("can-bo/<str:id_number>/", officer_views.officer_account, name="officer_account"),
    path("can-bo/<str:id_number>/<slug:action>/", officer_views.officer_account, name="officer_action"),
]
