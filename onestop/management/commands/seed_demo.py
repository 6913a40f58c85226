from typing import Any

from django.core.management.base import BaseCommand

from onestop.demo import seed_demo


class Command(BaseCommand):
    help = "Load the demo offices, staff and holders (idempotent; demo mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = seed_demo()
        self.stdout.write("Demo logins:")
        for login in logins:
            line = f"  {login.role.value:<14} {login.username:<12} {login.password}"
            if login.totp_secret:
                line += f"   second factor: TOTP key {login.totp_secret} (or: manage.py demo_totp {login.username})"
            self.stdout.write(line)
