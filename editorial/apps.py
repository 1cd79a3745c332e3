from axes import apps as axes_apps
from django.apps import AppConfig


class EditorialConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "editorial"
    verbose_name = "편집 흐름"


class LoginLockoutConfig(axes_apps.AppConfig):
    """django-axes (login brute-force lockouts) as the admin shows it: the app has no Korean
    name of its own; its models' and fields' names come from locale/ko."""

    default = False  # editorial's own config stays the default for "editorial"
    verbose_name = "로그인 잠금"
