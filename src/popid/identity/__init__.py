"""Digital identity accounts (VNeID model, Decree 69/2024/NĐ-CP): level-1 online registration,
level-2 activation by commune police, login factors, devices, guardianship. The OpenID Connect
provider lives in ``popid.identity.oidc`` and uses only ``identity.auth`` and the models."""
