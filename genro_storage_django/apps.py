from __future__ import annotations

from django.apps import AppConfig
from django.core import checks
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


class GenroStorageConfig(AppConfig):
    name = "genro_storage_django"
    verbose_name = _("Storage")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from genro_storage_django import checks as storage_checks
        from genro_storage_django.conf import reset_config
        from genro_storage_django.storage import reset_storages

        checks.register(storage_checks.check_storage_mounts, storage_checks.TAG)
        checks.register(storage_checks.check_backends, storage_checks.TAG)
        checks.register(storage_checks.check_error_reports, storage_checks.TAG)
        checks.register(storage_checks.check_class_names, storage_checks.TAG)
        checks.register(storage_checks.check_static_urls, storage_checks.TAG)
        checks.register(storage_checks.check_collectstatic_order, storage_checks.TAG)
        checks.register(storage_checks.check_tenants, storage_checks.TAG)
        checks.register(storage_checks.check_mount_callables, storage_checks.TAG)
        setting_changed.connect(reset_config, dispatch_uid="genro_storage_django.reset_config")
        setting_changed.connect(reset_storages, dispatch_uid="genro_storage_django.reset_storages")
