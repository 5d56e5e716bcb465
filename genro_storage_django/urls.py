"""Include with ``path("storage/", include("genro_storage_django.urls"))``."""

from django.urls import path

from genro_storage_django import views

app_name = "genro_storage_django"

urlpatterns = [
    path("serve/<str:mount>/<path:path>", views.serve, name="serve"),
    path("upload/<str:token>", views.direct_upload, name="direct_upload"),
    path("upload-target/", views.upload_target, name="upload_target"),
]
