from django.urls import include, path, re_path

from popid.api import api
from popid.core.problems import not_found_response

urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found_response),
    path("", include("popid.web.urls")),
]
