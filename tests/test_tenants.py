"""Per-tenant mounts: each tenant's files apart, on every writable kind.

The current tenant comes from ``with tenant(...)``, ``TenantMiddleware`` or
``storage_copy --tenant``; threads and asyncio tasks each keep their own.
"""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.checks import run_checks
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from genro_storage_django import get_storage
from genro_storage_django.exceptions import NoTenant
from genro_storage_django.tenants import TenantMiddleware, current_tenant, tenant
from tests.test_differential import field_file, read

CURRENT = "genro_storage_django.tenants.current_tenant"


def tenant_of(request: Any) -> str | None:
    """The tenant of a test request: its X-Tenant header."""
    return request.headers.get("X-Tenant")


@pytest.fixture
def per_tenant(mount_config: dict[str, Any]) -> Any:
    """The mount "per" keeps each tenant's files apart; "shared" is the same place, plain."""
    mounts = {"shared": mount_config, "per": {**mount_config, "tenant": CURRENT}}
    with override_settings(
        STORAGE_MOUNTS=mounts, STORAGE_TENANT_FROM_REQUEST=f"{__name__}.tenant_of"
    ):
        yield get_storage("per")


def test_each_tenant_has_its_own_folder(per_tenant, kind):
    with tenant("acme"):
        per_tenant.save("report.txt", ContentFile(b"acme's"))
        assert (
            per_tenant.backend.full_path("report.txt")
            .replace("\\", "/")
            .endswith("acme/report.txt")
        )
    with tenant("beta"):
        assert not per_tenant.exists("report.txt")
        per_tenant.save("report.txt", ContentFile(b"beta's"))
        assert per_tenant.listdir("") == ([], ["report.txt"])
    with tenant("acme"):
        assert read(per_tenant, "report.txt") == b"acme's"
    if kind != "memory":  # a second memory mount is another namespace
        directories, files = get_storage("shared").listdir("")
        assert (sorted(directories), files) == (["acme", "beta"], [])


def test_no_tenant_never_reaches_the_shared_root(per_tenant):
    calls = [
        lambda: per_tenant.save("a.txt", ContentFile(b"x")),
        lambda: per_tenant.exists("a.txt"),
        lambda: per_tenant.listdir(""),
        lambda: per_tenant.open("a.txt"),
        lambda: per_tenant.url("a.txt"),
        lambda: per_tenant.delete("a.txt"),
    ]
    for call in calls:
        with pytest.raises(NoTenant, match="'per'"):
            call()
    with tenant(None), pytest.raises(NoTenant):
        per_tenant.exists("a.txt")


@pytest.mark.parametrize("value", ["../acme", "a/b", "/abs", "a\\..\\b", "."])
def test_a_tenant_must_be_one_folder(per_tenant, value):
    with tenant(value), pytest.raises((SuspiciousFileOperation, NoTenant)):
        per_tenant.exists("a.txt")


def test_depth_and_empty_tenants(mount_config):
    options = {"tenant": CURRENT, "tenant_depth": 2, "tenant_allow_empty": True}
    with override_settings(STORAGE_MOUNTS={"per": {**mount_config, **options}}):
        storage = get_storage("per")
        with tenant("org/team"):
            storage.save("a.txt", ContentFile(b"team"))
        with tenant(""):
            assert storage.listdir("") == (["org"], [])
        with tenant("org/team"):
            assert read(storage, "a.txt") == b"team"


def test_threads_of_different_tenants_never_see_each_others_files(per_tenant):
    names: dict[str, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(index: int) -> None:
        try:
            with tenant(f"t{index}"):
                barrier.wait()
                names[f"t{index}"] = per_tenant.save("same.txt", ContentFile(f"{index}".encode()))
                assert read(per_tenant, "same.txt") == f"{index}".encode()
                assert per_tenant.listdir("") == ([], ["same.txt"])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(names.values()) == {"same.txt"}


def test_asyncio_tasks_of_different_tenants_never_see_each_others_files(per_tenant):
    async def work(index: int) -> bytes:
        with tenant(f"task{index}"):
            await asyncio.sleep(0)  # the tasks interleave here
            await asyncio.to_thread(per_tenant.save, "same.txt", ContentFile(f"{index}".encode()))
            await asyncio.sleep(0)
            assert current_tenant() == f"task{index}"
            return await asyncio.to_thread(read, per_tenant, "same.txt")

    async def main() -> list[bytes]:
        return await asyncio.gather(*(work(i) for i in range(6)))

    assert asyncio.run(main()) == [f"{i}".encode() for i in range(6)]


def test_filefields_save_into_the_current_tenants_folder(per_tenant):
    with tenant("acme"):
        file = field_file(per_tenant)
        file.save("doc.txt", ContentFile("acme doc"), save=False)
        assert read(per_tenant, file.name) == b"acme doc"
    with tenant("beta"):
        assert not per_tenant.exists(file.name)


def _saving_view(request: Any) -> HttpResponse:
    name = get_storage("per").save("from-request.txt", ContentFile(request.headers["X-Tenant"]))
    return HttpResponse(name)


def test_middleware_sets_the_tenant_of_each_request(per_tenant):
    middleware = TenantMiddleware(_saving_view)
    for name in ("acme", "beta"):
        middleware(RequestFactory().get("/", headers={"X-Tenant": name}))
    assert current_tenant() is None
    for name in ("acme", "beta"):
        with tenant(name):
            assert read(per_tenant, "from-request.txt") == name.encode()


def test_middleware_under_asgi(per_tenant):
    async def view(request: Any) -> HttpResponse:
        await asyncio.sleep(0)
        return HttpResponse(current_tenant() or "")

    middleware = TenantMiddleware(view)

    async def main() -> list[bytes]:
        requests = [RequestFactory().get("/", headers={"X-Tenant": f"a{i}"}) for i in range(5)]
        responses = await asyncio.gather(*(middleware(request) for request in requests))
        return [response.content for response in responses]

    assert asyncio.run(main()) == [f"a{i}".encode() for i in range(5)]


@pytest.mark.django_db
def test_the_admin_shows_the_requests_tenant_only(per_tenant):
    with tenant("acme"):
        per_tenant.save("acme-only.txt", ContentFile(b"a"))
    with tenant("beta"):
        per_tenant.save("beta-only.txt", ContentFile(b"b"))
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    address = reverse(
        "admin:genro_storage_django_storagemount_browse", kwargs={"mount": "per", "path": ""}
    )
    from django.conf import settings

    middleware = [*settings.MIDDLEWARE, "genro_storage_django.tenants.TenantMiddleware"]
    with override_settings(MIDDLEWARE=middleware):
        page = client.get(address, headers={"X-Tenant": "acme"})
        assert client.get(address).status_code == 403  # no tenant: never the shared root
    assert page.status_code == 200
    assert b"acme-only.txt" in page.content and b"beta-only.txt" not in page.content


def test_storage_copy_with_a_tenant(per_tenant, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "in.txt").write_bytes(b"copied")
    from django.conf import settings

    mounts = {**settings.STORAGE_MOUNTS, "src": {"type": "local", "path": str(source)}}
    with override_settings(STORAGE_MOUNTS=mounts):
        call_command("storage_copy", "src:", "per:", "--tenant", "acme", stdout=io.StringIO())
        with pytest.raises(CommandError, match="no tenant is set"):
            call_command("storage_copy", "src:", "per:", stdout=io.StringIO())
        with tenant("acme"):
            assert read(get_storage("per"), "in.txt") == b"copied"
        with tenant("beta"):
            assert not get_storage("per").exists("in.txt")


def test_an_unimportable_tenant_callable_is_a_check_error():
    mounts = {"per": {"type": "memory", "tenant": "no.such.module.function"}}
    with override_settings(STORAGE_MOUNTS=mounts):
        ids = [m.id for m in run_checks(tags=["storage_mounts"])]
    assert "genro_storage_django.E027" in ids


def _browse(client: Client, mount: str = "per", **headers: str) -> Any:
    address = reverse(
        "admin:genro_storage_django_storagemount_browse", kwargs={"mount": mount, "path": ""}
    )
    return client.get(address, headers=headers)


@pytest.mark.django_db
def test_staff_with_the_permission_switch_tenants_in_the_admin(per_tenant):
    from django.conf import settings
    from django.contrib.auth.models import Permission

    for name in ("acme", "beta"):
        with tenant(name):
            per_tenant.save(f"{name}-only.txt", ContentFile(name.encode()))
    switch = reverse("admin:genro_storage_django_storagemount_tenant")
    staff = User.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    codenames = ["view_files"]
    staff.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(staff)
    middleware = [*settings.MIDDLEWARE, "genro_storage_django.tenants.TenantMiddleware"]
    with override_settings(MIDDLEWARE=middleware):
        # Without the permission: no form, a forged switch is refused, own tenant only.
        assert (
            b"storage-tenant"
            not in client.get(reverse("admin:genro_storage_django_storagemount_changelist")).content
        )
        assert client.post(switch, {"tenant": "beta"}).status_code == 403
        assert b"beta-only.txt" not in _browse(client, **{"X-Tenant": "acme"}).content
        staff.user_permissions.add(Permission.objects.get(codename="switch_tenant"))
        page = client.get(reverse("admin:genro_storage_django_storagemount_changelist"))
        assert b"storage-tenant" in page.content
        assert client.post(switch, {"tenant": "beta"}).status_code == 302
        listing = _browse(client, **{"X-Tenant": "acme"}).content
        assert b"beta-only.txt" in listing and b"acme-only.txt" not in listing
        client.post(switch, {"tenant": ""})
        listing = _browse(client, **{"X-Tenant": "acme"}).content
        assert b"acme-only.txt" in listing and b"beta-only.txt" not in listing
