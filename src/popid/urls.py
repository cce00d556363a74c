from django.urls import include, path, re_path

from popid.api import api
from popid.core.problems import not_found_response
from popid.identity.oidc.urls import well_known as oidc_well_known
from popid.ops import health
from popid.wallet.urls import well_known as wallet_well_known

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("healthz/db", health.healthz_db, name="healthz-db"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("api/v1/", api.urls),
    re_path(r"^api/", not_found_response),
    path("tai-khoan/", include("popid.identity.urls")),
    path("oidc/", include("popid.identity.oidc.urls")),
    path("demo-rp/", include("popid.demo_rp.urls")),
    path("so-cai/", include("popid.ledger.urls")),
    path("chia-se/", include("popid.exchange.urls")),
    path("giay-to/", include("popid.documents.urls")),
    path("vi-giay-to/", include("popid.wallet.urls")),
    path("dich-vu-cong/", include("popid.services.citizen_urls")),
    path("phat-nguoi/", include("popid.traffic.urls")),
    path("thong-bao/", include("popid.notifications.urls")),
    path("", include("popid.immigration.urls")),
    path("so-khop/", include("popid.matching.urls")),
    path("van-hanh/", include("popid.ops.urls")),
    path("", include("popid.records.urls")),  # /cong-an/so-hoa/ (digitised records), /cong-an/tim-kiem/
    path("phan-tich/", include("popid.analytics.urls")),
    path("", include("popid.police.urls")),  # /to-giac/ (public) and /cong-an/ (officers)
    *oidc_well_known,
    *wallet_well_known,
    path("services/", include("popid.services.urls")),
    path("", include("popid.web.urls")),
    path("", include("popid.registry.urls")),
]

# The portal's own error pages (translated, in the frame, with a way back): web/http_errors.py;
# the 500 handler answers 503 + Retry-After when the database is unavailable and problem JSON under /api/.
handler400 = "popid.web.http_errors.bad_request"
handler403 = "popid.web.http_errors.permission_denied"
handler404 = "popid.web.http_errors.page_not_found"
handler500 = "popid.web.http_errors.server_error"
