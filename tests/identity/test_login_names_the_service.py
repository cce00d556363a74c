"""Issue #19 item 7: the login page opened from a relying party says which service asks."""

from __future__ import annotations

from urllib.parse import urlencode

from popid.identity.oidc import services
from tests.identity.test_oidc_flow import RP_CALLBACK, authorize_params


def test_login_from_a_relying_party_names_it(client, db):
    rp, _secret = services.register_client(name="Ngân hàng Thử nghiệm", redirect_uris=[RP_CALLBACK],
                                           token_endpoint_auth_method="client_secret_post")
    authorize = client.get("/oidc/authorize?" + urlencode(authorize_params(rp.client_id)))
    assert authorize.status_code == 302 and "/tai-khoan/dang-nhap/" in authorize["Location"]
    body = client.get(authorize["Location"]).content.decode()
    assert "<strong>Ngân hàng Thử nghiệm</strong> đề nghị bạn đăng nhập" in body


def test_plain_login_and_unknown_clients_name_nobody(client, db):
    assert "đề nghị bạn đăng nhập" not in client.get("/tai-khoan/dang-nhap/").content.decode()
    forged = "/tai-khoan/dang-nhap/?" + urlencode(
        {"next": "/oidc/authorize?" + urlencode(authorize_params("khong-ton-tai"))})
    assert "đề nghị bạn đăng nhập" not in client.get(forged).content.decode()
