from django.urls import path

from popid.police import citizen_views, views

app_name = "police"

citizen_urlpatterns = [
    path("", citizen_views.report_form, name="report_form"),
    path("tra-cuu/", citizen_views.track, name="track"),
    path("cua-toi/", citizen_views.my_reports, name="my_reports"),
    path("cua-toi/<str:code>/", citizen_views.my_report, name="my_report"),
]

officer_urlpatterns = [
    path("tin-bao/", views.queue, name="queue"),
    path("tin-bao/moi/", views.counter_report, name="counter_report"),
    path("tin-bao/<str:code>/", views.report_detail, name="report"),
    path("tin-bao/<str:code>/tep/<int:pk>/", views.attachment, name="attachment"),
    path("tin-bao/<str:code>/<slug:action>/", views.report_action, name="report_action"),
    path("vu-viec/", views.case_list, name="cases"),
    path("vu-viec/<str:number>/", views.case_detail, name="case"),
    path("vu-viec/<str:number>/dien-bien/", views.case_timeline, name="case_timeline"),
    path("vu-viec/<str:number>/tai-lieu/<int:pk>/", views.case_document, name="case_document"),
    path("vu-viec/<str:number>/<slug:action>/", views.case_action, name="case_action"),
    path("giam-sat/", views.audit, name="audit"),
]

urlpatterns = [
    *[path(f"to-giac/{p.pattern}", p.callback, name=p.name) for p in citizen_urlpatterns],
    *[path(f"cong-an/{p.pattern}", p.callback, name=p.name) for p in officer_urlpatterns],
]
