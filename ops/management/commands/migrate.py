"""Django's migrate, one at a time per database (ops/migration_lock.py).

Django looks management commands up in INSTALLED_APPS, earlier apps first, after its own
(django.core.management.get_commands), so this one replaces django.core's for every caller:
manage.py, call_command and the test runner's database set-up.
"""

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from ops.migration_lock import migration_lock, timeouts_lifted


class Command(migrate.Command):
    help = (
        f"{migrate.Command.help} One migrate runs at a time per database: another one waits "
        "(up to MIGRATE_LOCK_TIMEOUT seconds), then applies what is left."
    )

    def handle(self, *args, **options):
        if options["check_unapplied"] or options["plan"]:
            # They only read what is applied: nothing to wait for.
            return super().handle(*args, **options)
        connection = connections[options["database"]]

        def say(message: str) -> None:
            if options["verbosity"] >= 1:
                self.stdout.write(message)

        with (
            migration_lock(connection, timeout=settings.MIGRATE_LOCK_TIMEOUT, say=say),
            timeouts_lifted(connection),
        ):
            return super().handle(*args, **options)
