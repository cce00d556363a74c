"""Provider endpoints: discovery at the root (/.well-known/openid-configuration), the rest
under /oidc/ in the "oidc" namespace."""

from django.urls import path

from popid.identity.oidc import admin_views, views

app_name = "oidc"
urlpatterns = [
    path("authorize", views.authorize, name="authorize"),
    path("par", views.pushed_authorization_request, name="par"),
    path("token", views.token, name="token"),
    path("userinfo", views.userinfo, name="userinfo"),
    path("jwks", views.jwks, name="jwks"),
    path("logout", views.logout, name="logout"),
    path("clients/", admin_views.client_list, name="client_list"),
    path("clients/new/", admin_views.client_register, name="client_register"),
    path("clients/<str:client_id>/disable/", admin_views.client_disable, name="client_disable"),
]

well_known = [
    path(".well-known/openid-configuration", views.discovery, name="openid_configuration"),
]
