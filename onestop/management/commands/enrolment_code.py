from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onestop.enrolment import EnrolmentRefused, enrolment_code_issue
from onestop.models import User


class Command(BaseCommand):
    help = (
        "Issue a one-time code with which a staff member enrols their authenticator (shown once; hand it "
        "over in person). --replace withdraws the account's authenticator first (a lost phone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="withdraw the account's authenticator first")

    def handle(self, *args: Any, username: str, replace: bool, **options: Any) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError("no active staff account has that username")
        try:
            code = enrolment_code_issue(user=user, actor_label="manage.py enrolment_code", replace=replace)
        except EnrolmentRefused:
            raise CommandError("the account already has an authenticator: add --replace to withdraw it") from None
        hours = settings.ENROLMENT_CODE_HOURS
        self.stdout.write(f"{code}\n(valid {hours} hours, once; the account's user types it at the second factor)")
