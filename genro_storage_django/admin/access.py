"""Who may do what in the admin browser: mount visibility, Django and mount permissions."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404

from genro_storage_django.conf import mount_names
from genro_storage_django.storage import MountStorage, get_storage

#: Browser action -> Django permission of the ``StorageMount`` model.
PERMISSIONS = {
    "view": "genro_storage_django.view_files",
    "add": "genro_storage_django.add_files",
    "change": "genro_storage_django.change_files",
    "delete": "genro_storage_django.delete_files",
}

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Allowed:
    """The actions one user may take on one mount."""

    view: bool
    add: bool
    change: bool
    delete: bool


def visible_mounts() -> list[str]:
    """Return the valid mounts the browser shows, limited by ``STORAGE_ADMIN_MOUNTS``."""
    shown = getattr(settings, "STORAGE_ADMIN_MOUNTS", None)
    names = mount_names()
    if shown is None:
        return names
    return [name for name in names if name in shown]


def user_can(user: User, action: str) -> bool:
    """Return True if ``user`` holds the Django permission of ``action``."""
    # django-stubs types request.user as AbstractBaseUser, without PermissionsMixin.
    is_staff = getattr(user, "is_staff", False)
    return bool(user.is_active and is_staff and user.has_perm(PERMISSIONS[action]))  # type: ignore[attr-defined]


def allowed(user: User, storage: MountStorage) -> Allowed:
    """Return what ``user`` may do on ``storage``: both user and mount must allow it."""
    mount = storage.mount
    return Allowed(
        view=user_can(user, "view"),
        add=user_can(user, "add") and mount.can_write,
        change=user_can(user, "change") and mount.can_write,
        delete=user_can(user, "delete") and mount.can_delete,
    )


def mount_storage(name: str) -> MountStorage:
    """Return the storage of a visible mount; ``Http404`` for any other name."""
    if name not in visible_mounts():
        raise Http404("No such mount.")
    try:
        storage = get_storage(name)
        storage.mount  # noqa: B018 -- resolve the settings now, inside the try
    except ImproperlyConfigured:
        raise Http404("No such mount.") from None
    return storage


def require(user: User, storage: MountStorage, action: str) -> Allowed:
    """Return the user's ``Allowed``; raise ``PermissionDenied`` unless ``action`` is in it.

    Every action needs ``view`` as well: nobody works blind in a mount.
    """
    permitted = allowed(user, storage)
    if not (permitted.view and getattr(permitted, action)):
        raise PermissionDenied
    return permitted
