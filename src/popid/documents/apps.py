from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "popid.documents"
    label = "documents"
    verbose_name = "Giấy tờ: giấy phép lái xe, đăng ký xe, thẻ BHYT"
    default_auto_field = "django.db.models.BigAutoField"
