import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create or reset the demo superuser. Credentials come from DEMO_ADMIN_USER and "
        "DEMO_ADMIN_PASSWORD (default: admin / admin)."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "admin")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        action = "Created" if created else "Reset"
        self.stdout.write(
            f"{action} the demo superuser. Log in at http://127.0.0.1:8000/admin/ "
            f"as {username!r} with password {password!r}."
        )
