from django import forms
from django.contrib import admin

from demo.models import Document
from genro_storage_django.forms import DirectUploadField


class DocumentForm(forms.ModelForm):
    # The browser sends the file itself (to the bucket on s3, gcs and azure
    # mounts; to the app's upload view on this demo's local mount).
    file = DirectUploadField.for_model_field(Document, "file", max_size=100 * 2**20)

    class Meta:
        model = Document
        fields = ["title", "file", "attachment"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ["title", "file", "uploaded_at"]
    search_fields = ["title"]
