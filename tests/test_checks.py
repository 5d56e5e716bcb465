"""Every system check id, triggered by the bad setting it describes."""

from __future__ import annotations

import pytest
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from genro_storage_django import get_storage
from genro_storage_django.exceptions import InvalidMount, MissingExtra, MountNotFound


def storage_messages():
    return [m for m in run_checks() if m.id and m.id.startswith("genro_storage_django.")]


def ids(messages):
    return [message.id for message in messages]


CASES = [
    ("E001", "not a dict", ""),
    ("E002", {"media": "local"}, "'media'"),
    ("E002", [{"type": "memory"}], "STORAGE_MOUNTS[0]"),
    ("E003", {"bad name!": {"type": "memory"}}, "'bad name!'"),
    ("E004", {"media": {"type": "gopher"}}, "'gopher'"),
    ("E005", {"media": {"path": "/srv"}}, "'type'"),
    ("E005", {"media": {"type": "local"}}, "'path'"),
    ("E005", {"up": {"type": "s3"}}, "'bucket'"),
    ("E005", {"up": {"type": "gcs"}}, "'bucket'"),
    ("E005", {"up": {"type": "azure", "account_name": "a"}}, "'container'"),
    ("E021", {"up": {"type": "azure", "container": "c"}}, "'account_name'"),
    ("E005", {"up": {"type": "http"}}, "'base_url'"),
    ("E006", {"scratch": {"type": "memory", "pth": "/x"}}, "'pth'"),
    ("E007", {"scratch": {"type": "memory", "file_overwrite": "yes"}}, "'file_overwrite'"),
    ("E007", {"up": {"type": "s3", "bucket": "b", "url_expiry": True}}, "'url_expiry'"),
    ("E008", {"scratch": {"type": "memory", "permissions": "write"}}, "'permissions'"),
    ("E009", {"media": {"type": "local", "path": "relative/dir"}}, "'path'"),
    ("E010", [{"name": "a", "type": "memory"}, {"name": "a", "type": "memory"}], "'a'"),
]


@pytest.mark.parametrize(("check_id", "setting", "named"), CASES)
def test_each_problem_has_its_id_and_names_mount_and_key(check_id, setting, named):
    with override_settings(STORAGE_MOUNTS=setting):
        messages = storage_messages()
    assert f"genro_storage_django.{check_id}" in ids(messages)
    message = next(m for m in messages if m.id == f"genro_storage_django.{check_id}")
    assert isinstance(message, Error)
    assert named in message.msg


def test_unknown_key_suggests_the_closest_valid_key():
    with override_settings(STORAGE_MOUNTS={"media": {"type": "local", "pth": "/srv"}}):
        messages = storage_messages()
    unknown = next(m for m in messages if m.id == "genro_storage_django.E006")
    assert unknown.hint == "Did you mean 'path'?"


def test_valid_settings_give_no_message(tmp_path):
    mounts = [
        {"name": "media", "type": "local", "path": str(tmp_path), "base_url": "/media/"},
        {"name": "scratch", "type": "memory", "permissions": "readwrite"},
    ]
    with override_settings(STORAGE_MOUNTS=mounts):
        assert storage_messages() == []
        assert get_storage("media").mount.base_url == "/media/"
        assert get_storage("scratch").mount.permissions == "readwrite"


def test_path_objects_are_accepted(tmp_path):
    with override_settings(STORAGE_MOUNTS={"media": {"type": "local", "path": tmp_path}}):
        assert storage_messages() == []
        assert get_storage("media").path("x.txt") == str(tmp_path.resolve() / "x.txt")


def test_http_mount_with_write_permissions_warns_and_stays_readonly():
    setting = {"cdn": {"type": "http", "base_url": "http://127.0.0.1:1/", "permissions": "delete"}}
    with override_settings(STORAGE_MOUNTS=setting):
        messages = storage_messages()
        assert ids(messages) == ["genro_storage_django.W001"]
        assert isinstance(messages[0], Warning)
        assert get_storage("cdn").mount.permissions == "readonly"


def test_missing_extra_is_reported_with_the_pip_command(monkeypatch):
    from genro_storage_django.backends.s3 import S3Backend

    monkeypatch.setattr(S3Backend, "requires", ("genro_no_such_module",))
    with override_settings(STORAGE_MOUNTS={"up": {"type": "s3", "bucket": "b"}}):
        messages = storage_messages()
        assert ids(messages) == ["genro_storage_django.E011"]
        assert messages[0].hint == 'Install it with: pip install "genro-storage-django[s3]"'
        with pytest.raises(MissingExtra, match=r'pip install "genro-storage-django\[s3\]"'):
            get_storage("up").exists("x")


def test_secrets_never_appear_in_check_messages():
    secret = "SUPER-SECRET-KEY-123"
    setting = {"up": {"type": "s3", "bucket": 3, "secret": secret, "kye": secret}}
    with override_settings(STORAGE_MOUNTS=setting):
        messages = storage_messages()
    assert messages
    for message in messages:
        assert secret not in message.msg
        assert secret not in (message.hint or "")


def test_manage_py_check_fails_on_bad_settings():
    bad = {"media": {"type": "local", "path": "rel"}}
    with (
        override_settings(STORAGE_MOUNTS=bad),
        pytest.raises(SystemCheckError, match=r"genro_storage_django\.E009"),
    ):
        call_command("check")


def test_using_an_undefined_mount_lists_the_defined_ones():
    with override_settings(STORAGE_MOUNTS={"media": {"type": "memory"}, "b": {"type": "memory"}}):
        storage = get_storage("nope")
        with pytest.raises(MountNotFound, match="'b', 'media'"):
            storage.exists("x")


def test_using_an_invalid_mount_raises_improperly_configured():
    with (
        override_settings(STORAGE_MOUNTS={"media": {"type": "local"}}),
        pytest.raises(InvalidMount, match="missing the required key 'path'"),
    ):
        get_storage("media").exists("x")


@pytest.mark.parametrize("ours_first", [True, False])
def test_collectstatic_order_is_checked_when_static_files_are_on_a_mount(ours_first):
    from django.conf import settings as django_settings

    apps = [app for app in django_settings.INSTALLED_APPS if app != "genro_storage_django"]
    position = apps.index("django.contrib.staticfiles") + (0 if ours_first else 1)
    apps.insert(position, "genro_storage_django")
    storages = {
        **django_settings.STORAGES,
        "staticfiles": {
            "BACKEND": "genro_storage_django.staticfiles.MountStaticStorage",
            "OPTIONS": {"mount": "static"},
        },
    }
    mounts = {"static": {"type": "memory"}}
    with override_settings(INSTALLED_APPS=apps, STORAGES=storages, STORAGE_MOUNTS=mounts):
        ids = [message.id for message in run_checks()]
    assert ("genro_storage_django.W005" in ids) is not ours_first


def test_collectstatic_order_does_not_matter_for_other_static_storages():
    from django.conf import settings as django_settings

    apps = [app for app in django_settings.INSTALLED_APPS if app != "genro_storage_django"]
    apps.append("genro_storage_django")
    storages = {
        **django_settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(INSTALLED_APPS=apps, STORAGES=storages):
        ids = [message.id for message in run_checks()]
    assert "genro_storage_django.W005" not in ids
