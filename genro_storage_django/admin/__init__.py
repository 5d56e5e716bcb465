"""The admin file browser, found by the admin's autodiscovery.

It appears under "Storage" on the index of the default admin site. Another
site registers it with ``site.register(StorageMount, StorageAdmin)``.
"""

from django.contrib import admin

from genro_storage_django.admin.options import StorageAdmin
from genro_storage_django.models import StorageMount

__all__ = ["StorageAdmin"]

admin.site.register(StorageMount, StorageAdmin)
