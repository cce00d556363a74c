"""Pages of popid.immigration: establishment staff under /luu-tru/, police under /xuat-nhap-canh/."""

from django.urls import path

from popid.immigration import views

app_name = "immigration"
urlpatterns = [
    path("luu-tru/", views.my_establishments, name="home"),
    path("luu-tru/<slug:code>/", views.establishment, name="establishment"),
    path("luu-tru/<slug:code>/khach-di/", views.departure, name="departure"),
    path("luu-tru/<slug:code>/tep-csv/", views.csv_upload, name="csv"),
    path("ho-chieu/", views.my_passports, name="passports"),
    path("xuat-nhap-canh/", views.police_home, name="police_home"),
    path("xuat-nhap-canh/xa/<str:commune_code>/", views.police_commune, name="police_commune"),
    path("xuat-nhap-canh/tra-cuu/", views.police_lookup, name="police_lookup"),
    path("xuat-nhap-canh/mrz/", views.police_mrz, name="police_mrz"),
    path("xuat-nhap-canh/doi-chieu/<int:hit_id>/xem-xet/", views.police_review, name="police_review"),
]
