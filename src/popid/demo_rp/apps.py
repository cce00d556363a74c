from django.apps import AppConfig


class DemoRpConfig(AppConfig):
    name = "popid.demo_rp"
    label = "demo_rp"
    verbose_name = "Cổng dịch vụ công mẫu"
