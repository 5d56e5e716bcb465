"""``DirectUploadField`` against real servers, as a form: both paths, the refusals, a ModelForm.

The script's part is played here as tests/test_direct_uploads.py plays a
browser: ask the ``upload_target`` endpoint with the widget's grant, send the
bytes to the target, post the ticket with the form. The browser itself is in
tests/test_browser_direct_upload.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from genro_storage_django import direct_uploads
from genro_storage_django.forms import DirectUploadField, fixed_prefix, prefix_of
from genro_storage_django.storage import MountStorage, get_storage
from tests.direct_upload_site import UploadForm
from tests.test_admin import staff_client, url
from tests.test_direct_uploads import (  # noqa: F401 -- fixtures, used by name
    config_of,
    gcs_signing_config,
    gcs_upload_server,
    send,
    token_server,
)
from tests.thirdparty.models import Document

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.direct_upload_site")]

BODY = b"direct form upload\n" * 100


@pytest.fixture(params=["s3", "gcs", "azure", "local", "memory"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def storage(kind: str, request: pytest.FixtureRequest) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": config_of(kind, request)}):
        yield get_storage("up")


@pytest.fixture
def local(local_mount_config: dict[str, Any]) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"up": local_mount_config}):
        yield get_storage("up")


def upload(grant: str, body: bytes = BODY, filename: str = "report.txt", **fields: str) -> Any:
    """Do what direct_upload.js does with ``grant``: ask for a target, send ``body``."""
    asked = {"grant": grant, "filename": filename, "size": str(len(body)), **fields}
    answer = Client().post(reverse("genro_storage_django:upload_target"), asked)
    assert answer.status_code == 200, answer.json()
    target = answer.json()
    assert send(target, body) in (200, 201, 204)
    return target


def page_grant(html: str) -> str:
    return re.search(r'data-grant="([^"]+)"', html).group(1)


def post(data: dict[str, Any], files: dict[str, Any] | None = None) -> UploadForm:
    form = UploadForm(data, files or {}, mount="up")
    form.is_valid()
    return form


def test_the_widget_renders_a_file_input_the_ticket_input_grant_and_endpoint(local):
    html = Client().get("/form/up/").content.decode()
    assert re.search(r'<input type="file" name="file"[^>]* id="id_file"', html)
    assert '<input type="hidden" name="file_ticket" value=""' in html
    assert f'data-target-url="{reverse("genro_storage_django:upload_target")}"' in html
    assert 'src="/static/genro_storage_django/direct_upload.js"' in html
    storage, terms = direct_uploads.read_grant(get_storage, page_grant(html))
    assert storage.mount.name == "up"
    assert terms["p"] == "uploads/" and terms["s"] == 32 * 1024 * 1024 and terms["t"] is None


def test_the_script_path_posts_only_the_ticket(storage):
    html = Client().get("/form/up/").content.decode()
    target = upload(page_grant(html))
    assert target["name"] == "uploads/report.txt"
    answer = Client().post("/form/up/", {"title": "t", "file_ticket": target["ticket"]})
    assert '<p id="saved">uploads/report.txt</p>' in answer.content.decode()
    assert storage.open("uploads/report.txt").read() == BODY


def test_without_javascript_the_file_is_posted_and_saved_under_upload_to(storage):
    upload_file = SimpleUploadedFile("plain report.txt", BODY, "text/plain")
    answer = Client().post("/form/up/", {"title": "t", "file": upload_file})
    assert '<p id="saved">uploads/plain_report.txt</p>' in answer.content.decode()
    assert storage.open("uploads/plain_report.txt").read() == BODY


def limited(storage: MountStorage, **kwargs: Any) -> type[forms.Form]:
    field = DirectUploadField(storage=storage, upload_to="small/", **kwargs)
    return type("LimitedForm", (forms.Form,), {"file": field})


def test_without_javascript_the_same_limits_apply(local):
    form_class = limited(local, max_size=10, content_types=["image/*"])
    too_large = form_class({}, {"file": SimpleUploadedFile("a.png", b"x" * 11, "image/png")})
    assert too_large.errors["file"] == ["The file is larger than 10 bytes."]
    wrong = form_class({}, {"file": SimpleUploadedFile("a.txt", b"x", "text/plain")})
    assert wrong.errors["file"] == ["Files of type text/plain are not accepted."]
    assert not local.exists("small")
    fine = form_class({}, {"file": SimpleUploadedFile("a.png", b"x" * 10, "image/png")})
    assert fine.is_valid() and fine.cleaned_data["file"] == "small/a.png"


def test_the_script_path_limits_are_checked_again(local):
    form_class = limited(local, max_size=10, content_types=["image/*"])
    form = form_class()
    target = upload(form.fields["file"].grant(), b"x" * 5, "a.png")
    # A grant of a larger size, as a page changed since would hold.
    loose = direct_uploads.grant(local, prefix="small/", max_size=100, content_types=None)
    bigger = upload(loose, b"x" * 50, "b.png")
    assert form_class({"file_ticket": target["ticket"]}).is_valid()
    bound = form_class({"file_ticket": bigger["ticket"]})
    assert bound.errors["file"] == ["The file is larger than the 10 bytes allowed."]
    assert not local.exists(bigger["name"])  # refused: deleted


def test_a_refusal_speaks_the_language_of_the_request(local):
    form_class = limited(local, max_size=10, content_types=["image/*"])
    loose = direct_uploads.grant(local, prefix="small/", max_size=100, content_types=None)
    bigger = upload(loose, b"x" * 50, "b.png")
    with translation.override("it"):
        bound = form_class({"file_ticket": bigger["ticket"]})
        assert bound.errors["file"] == ["Il file supera i 10 byte consentiti."]


def test_a_forged_ticket_is_a_form_error(local):
    form = post({"title": "t", "file_ticket": "made-up:ticket"})
    assert form.errors["file"] == ["The upload could not be verified."]


def test_a_reused_ticket_is_a_form_error(storage):
    target = upload(UploadForm(mount="up").fields["file"].grant())
    assert post({"title": "t", "file_ticket": target["ticket"]}).is_valid()
    again = post({"title": "t", "file_ticket": target["ticket"]})
    assert again.errors["file"] == ["This upload was already used: upload the file again."]


def test_a_ticket_outside_the_fields_folder_is_a_form_error(local):
    elsewhere = direct_uploads.grant(local, prefix="elsewhere/", max_size=1000, content_types=None)
    target = upload(elsewhere, b"x")
    form = post({"title": "t", "file_ticket": target["ticket"]})
    assert form.errors["file"] == ["The file was not uploaded where this form stores files."]


def test_a_name_never_uploaded_is_a_form_error(local):
    target = (
        Client()
        .post(
            reverse("genro_storage_django:upload_target"),
            {
                "grant": UploadForm(mount="up").fields["file"].grant(),
                "filename": "a.txt",
                "size": "1",
            },
        )
        .json()
    )
    form = post({"title": "t", "file_ticket": target["ticket"]})
    assert form.errors["file"] == ["The uploaded file was not found: upload it again."]


@pytest.mark.parametrize("path", ["script", "plain"])
def test_an_error_elsewhere_keeps_the_uploaded_file(local, path):
    if path == "script":
        target = upload(UploadForm(mount="up").fields["file"].grant())
        first = Client().post("/form/up/", {"title": "", "file_ticket": target["ticket"]})
    else:
        plain = SimpleUploadedFile("report.txt", BODY, "text/plain")
        first = Client().post("/form/up/", {"title": "", "file": plain})
    html = first.content.decode()
    assert "This field is required." in html and "saved" not in html
    assert "Uploaded: uploads/report.txt" in html
    kept = re.search(r'name="file_kept" value="([^"]+)"', html).group(1)
    answer = Client().post("/form/up/", {"title": "t", "file_kept": kept})
    assert '<p id="saved">uploads/report.txt</p>' in answer.content.decode()
    assert local.listdir("uploads") == ([], ["report.txt"])
    forged = post({"title": "t", "file_kept": kept[:-2] + "xx"})
    assert forged.errors["file"] == ["The uploaded file expired: choose it again."]


def test_the_folder_follows_the_dates_of_upload_to():
    assert prefix_of("documents/%Y/") == f"documents/{__import__('datetime').date.today():%Y}/"
    assert fixed_prefix("documents/%Y/%m/") == "documents/"
    assert fixed_prefix("documents") == "documents/"
    assert fixed_prefix("") == prefix_of("") == ""


# A model form, in one line


class DocumentForm(forms.ModelForm):
    file = DirectUploadField.for_model_field(Document, "file", max_size=1024 * 1024)

    class Meta:
        model = Document
        fields = ["file"]


@pytest.fixture
def thirdparty(kind: str, request: pytest.FixtureRequest) -> Iterator[MountStorage]:
    with override_settings(STORAGE_MOUNTS={"thirdparty": config_of(kind, request)}):
        yield get_storage("thirdparty")


@pytest.mark.parametrize("kind", ["s3", "local"])
def test_a_model_form_stores_the_uploaded_name_without_saving_again(thirdparty):
    field = DocumentForm().fields["file"]
    assert field.storage == thirdparty and field.upload_to == "documents/"
    assert field.required and field.label == "File" and field.max_length == 100
    target = upload(field.grant())
    form = DocumentForm({"file_ticket": target["ticket"]})
    assert form.is_valid(), form.errors
    document = form.save()
    assert Document.objects.get().file.name == "documents/report.txt" == document.file.name
    assert thirdparty.listdir("documents") == ([], ["report.txt"])  # not saved a second time
    plain = DocumentForm({}, {"file": SimpleUploadedFile("b.txt", b"b", "text/plain")})
    assert plain.save().file.name == "documents/b.txt"
    assert thirdparty.open("documents/b.txt").read() == b"b"


def test_a_model_form_keeps_the_current_file_when_none_is_chosen(local_mount_config):
    with override_settings(STORAGE_MOUNTS={"thirdparty": local_mount_config}):
        document = Document.objects.create(file="documents/old.txt")
        form = DocumentForm({}, {}, instance=document)
        assert "Currently: documents/old.txt" in form.as_div()
        assert form.is_valid() and form.save().file.name == "documents/old.txt"


def test_a_model_field_off_any_mount_is_refused():
    from django.contrib.auth.models import User

    with pytest.raises(ImproperlyConfigured, match="does not store on a mount"):
        DirectUploadField.for_model_field(User, "username", max_size=1)


# The admin browser's direct uploads (the browser test drives them in Chromium)


@pytest.fixture
def admin_mounts(s3_mount_config: dict[str, Any], local_mount_config: dict[str, Any]) -> Any:
    with override_settings(STORAGE_MOUNTS={"bucket": s3_mount_config, "disk": local_mount_config}):
        yield get_storage("bucket")


def admin_url(view: str, mount: str = "bucket", path: str = "docs") -> str:
    return url(view, mount, path)


def test_the_folder_page_offers_direct_uploads_to_who_may_add_on_signing_mounts(
    admin_mounts, django_user_model
):
    adder = staff_client(django_user_model, "view_files", "add_files")

    def page(mount: str = "bucket", client: Client = adder) -> str:
        return client.get(admin_url("browse", mount, "")).content.decode()

    assert f'data-direct-target-url="{admin_url("upload_target", path="")}"' in page()
    assert 'data-direct-size="8388608"' in page() and "direct_upload.js" in page()
    assert "data-direct-target-url" not in page("disk")  # the app's view is no shortcut
    with override_settings(STORAGE_ADMIN_DIRECT_UPLOAD_SIZE=None):
        assert "data-direct-target-url" not in page()
    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_files"))
    viewing = Client()
    viewing.force_login(viewer)
    listing = page(client=viewing)
    assert "storage-directory" in listing and "data-direct" not in listing


def test_the_admin_views_need_the_add_permission(admin_mounts, django_user_model):
    viewer = staff_client(django_user_model, "view_files")
    asked = {"filename": "a.txt", "size": "3"}
    assert viewer.post(admin_url("upload_target"), asked).status_code == 403
    assert viewer.post(admin_url("upload_done"), {"ticket": "x"}).status_code == 403
    assert viewer.get(admin_url("upload_target")).status_code == 405


def test_the_admin_sends_direct_then_verifies_the_ticket(admin_mounts, django_user_model):
    adder = staff_client(django_user_model, "view_files", "add_files")
    asked = {"filename": "big file.bin", "size": "3", "relative_path": "album/big file.bin"}
    target = adder.post(admin_url("upload_target"), asked).json()
    assert target["name"] == "docs/album/big_file.bin"
    assert send(target, b"abc") in (200, 201, 204)
    done = adder.post(admin_url("upload_done"), {"ticket": target["ticket"]})
    assert done.json() == {"location": admin_url("browse")}
    assert admin_mounts.open("docs/album/big_file.bin").read() == b"abc"
    again = adder.post(admin_url("upload_done"), {"ticket": target["ticket"]})
    assert again.status_code == 400 and again.json()["code"] == "replayed"
    forged = adder.post(admin_url("upload_done"), {"ticket": "forged"})
    assert forged.json() == {"error": "The upload could not be verified.", "code": "forged"}
    # A ticket of another folder, posted to this one.
    other = adder.post(admin_url("upload_target", path="other"), asked).json()
    send(other, b"abc")
    outside = adder.post(admin_url("upload_done"), {"ticket": other["ticket"]})
    assert outside.json()["code"] == "outside"


def test_the_admin_refuses_a_file_over_its_limit(admin_mounts, django_user_model):
    adder = staff_client(django_user_model, "view_files", "add_files")
    with override_settings(STORAGE_ADMIN_DIRECT_UPLOAD_MAX_SIZE=10):
        refused = adder.post(admin_url("upload_target"), {"filename": "a.bin", "size": "11"})
    assert refused.status_code == 400 and refused.json()["code"] == "too_large"
    invalid = adder.post(admin_url("upload_target"), {"filename": "a.bin", "size": "many"})
    assert invalid.json() == {"error": "Invalid file name or size.", "code": "invalid"}


def test_the_demo_admin_uses_the_field_in_one_line(local_mount_config, admin_client):
    from demo.models import Document as DemoDocument

    with override_settings(STORAGE_MOUNTS={"media": local_mount_config}):
        page = admin_client.get("/admin/demo/document/add/").content.decode()
        assert "data-storage-direct-upload" in page and "direct_upload.js" in page
        field = DirectUploadField.for_model_field(DemoDocument, "file", max_size=100)
        target = upload(field.grant(), b"demo", "demo.txt")
        saved = admin_client.post(
            "/admin/demo/document/add/", {"title": "Demo", "file_ticket": target["ticket"]}
        )
        assert saved.status_code == 302, saved.content.decode()[:2000]
        assert DemoDocument.objects.get().file.name == target["name"]
        assert target["name"].startswith("documents/20")
