"""Web pages of popid.wallet: the citizen's web wallet, the authorities' public endpoints
(issuer metadata, JWKS, status lists) and OpenID4VCI."""

from django.urls import path

from popid.wallet import public_views, views

app_name = "wallet"
urlpatterns = [
    path("", views.index, name="index"),
    path("them/", views.add, name="add"),
    path("vi-ngoai/", views.external_offer, name="external_offer"),
    path("giay-to/<int:pk>/", views.credential, name="credential"),
    path("giay-to/<int:pk>/xoa/", views.remove, name="remove"),
    path("giay-to/<int:pk>/ky/", views.sign, name="sign"),
    path("to-chuc/<slug:slug>", public_views.issuer_home, name="issuer"),
    path("to-chuc/<slug:slug>/jwks", public_views.issuer_jwks, name="issuer_jwks"),
    path("to-chuc/<slug:slug>/trang-thai/<int:list_id>", public_views.status_list, name="status_list"),
    path("p/<str:ref>", public_views.compact_presentation, name="compact_presentation"),
    path("oid4vci/token", public_views.token, name="oid4vci_token"),
    path("oid4vci/nonce", public_views.nonce, name="oid4vci_nonce"),
    path("oid4vci/credential", public_views.credential, name="oid4vci_credential"),
]

# Mounted at the site root by popid.urls (RFC 8615 well-known locations; the issuer path is appended).
well_known = [
    path(".well-known/jwt-vc-issuer/vi-giay-to/to-chuc/<slug:slug>", public_views.jwt_vc_issuer_metadata,
         name="jwt_vc_issuer"),
    path(".well-known/openid-credential-issuer/vi-giay-to", public_views.credential_issuer_metadata,
         name="credential_issuer_metadata"),
    path(".well-known/openid-credential-issuer", public_views.credential_issuer_metadata),
    path(".well-known/oauth-authorization-server/vi-giay-to", public_views.authorization_server_metadata,
         name="authorization_server_metadata"),
]
