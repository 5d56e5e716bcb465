"""``genro_storage_django.urls`` for ASGI: the same URL names, served by coroutines.

Include with ``path("storage/", include("genro_storage_django.urls_async"))``
instead of ``genro_storage_django.urls``.
"""

from django.urls import path

from genro_storage_django import views

app_name = "genro_storage_django"

urlpatterns = [
    path("serve/<str:mount>/<path:path>", views.aserve, name="serve"),
]
