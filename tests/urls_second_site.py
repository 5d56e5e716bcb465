"""The demo's URLs with a second admin site that also serves the storage browser.

``tests/test_admin.py`` checks that the second site's pages link to that site.
"""

from django.contrib import admin
from django.urls import include, path

from genro_storage_django.admin import StorageAdmin
from genro_storage_django.models import StorageMount

other_site = admin.AdminSite(name="other")
other_site.register(StorageMount, StorageAdmin)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("other-admin/", other_site.urls),
    path("storage/", include("genro_storage_django.urls")),
]
