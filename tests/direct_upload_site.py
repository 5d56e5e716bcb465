"""A page with a ``DirectUploadField`` per mount, for the form and browser tests.

``/form/<mount>/`` shows a form storing into ``uploads/`` of that mount
(``/form/<mount>/<max_size>/`` with another limit than 32 MiB); a valid
post answers the saved name in ``#saved``, an invalid one shows the form again.
Use with ``@pytest.mark.urls("tests.direct_upload_site")``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

from genro_storage_django import get_storage
from genro_storage_django.forms import DirectUploadField

MAX_SIZE = 32 * 1024 * 1024

PAGE = engines["django"].from_string(
    """<!doctype html><html lang="en"><head><title>Upload</title>{{ form.media }}</head><body>
{% if saved %}<p id="saved">{{ saved }}</p>{% endif %}
<form method="post" enctype="multipart/form-data">{% csrf_token %}
{{ form.as_div }}
<button type="submit">Save</button>
</form></body></html>"""
)


class UploadForm(forms.Form):
    title = forms.CharField(max_length=50)

    def __init__(self, *args: Any, mount: str, max_size: int = MAX_SIZE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"] = DirectUploadField(
            storage=get_storage(mount), upload_to="uploads/", max_size=max_size
        )


def upload_page(request: HttpRequest, mount: str, max_size: int = MAX_SIZE) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, mount=mount, max_size=max_size)
    saved = form.cleaned_data["file"] if request.method == "POST" and form.is_valid() else None
    return HttpResponse(PAGE.render({"form": form, "saved": saved}, request))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("storage/", include("genro_storage_django.urls")),
    path("form/<str:mount>/", upload_page, name="upload_page"),
    path("form/<str:mount>/<int:max_size>/", upload_page),
]
