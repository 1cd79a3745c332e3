"""Store DB_STATEMENT_TIMEOUT_MS and DB_LOCK_TIMEOUT_MS on the site's role, in its database.

Behind PgBouncer in transaction mode (DB_PGBOUNCER=true) the site can neither send them when it
connects (PgBouncer refuses the `options` startup parameter) nor SET them (a SET stays on the
server connection that ran it, which the next transaction may not get). So they are stored
where every new server session reads them: ALTER ROLE <login role> IN DATABASE <database> SET,
which touches no other role and no other database. The variables are the truth: a value is
stored, an unset variable removes what is stored, so a second run changes nothing. It works on
a direct connection too, where the site also sends the same values when it connects.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import sql

# The parameters culture/database.py names in SESSION_SETTINGS, and where each comes from.
VARIABLES = {"statement_timeout": "DB_STATEMENT_TIMEOUT_MS", "lock_timeout": "DB_LOCK_TIMEOUT_MS"}

STORED = """
SELECT coalesce(s.setconfig, '{}')
FROM pg_db_role_setting s
JOIN pg_roles r ON r.oid = s.setrole
JOIN pg_database d ON d.oid = s.setdatabase
WHERE r.rolname = session_user AND d.datname = current_database()
"""


class Command(BaseCommand):
    help = (
        "DB_STATEMENT_TIMEOUT_MS와 DB_LOCK_TIMEOUT_MS를 사이트의 역할에 이 데이터베이스 한정으로 "
        "저장합니다(ALTER ROLE … IN DATABASE … SET). PgBouncer(DB_PGBOUNCER=true) 뒤에서는 "
        "이렇게만 적용됩니다. 비어 있는 변수는 저장된 값을 지웁니다."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, help="설정할 데이터베이스 별칭 (기본: default)"
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="바꾸지 않고 바꿀 것만 보여 줍니다. 바꿀 것이 있으면 1로 끝납니다.",
        )

    def handle(self, *args, database, check, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                "PostgreSQL에서만 쓰는 명령입니다. SQLite에는 문장·잠금 제한 시간이 없습니다 "
                "(잠금을 기다리는 시간은 SQLITE_BUSY_TIMEOUT이 정합니다)."
            )
        wanted = connection.settings_dict.get("SESSION_SETTINGS") or {}
        with connection.cursor() as cursor:
            cursor.execute("SELECT session_user, current_database()")
            role, name = cursor.fetchone()
            cursor.execute(STORED)
            row = cursor.fetchone()
            stored = dict(item.split("=", 1) for item in (row[0] if row else []))
            changes = {
                parameter: value
                for parameter, value in wanted.items()
                if stored.get(parameter) != (None if value is None else str(value))
            }
            for parameter, value in wanted.items():
                before = _shown(stored.get(parameter))
                label = f"{parameter} ({VARIABLES.get(parameter, parameter)})"
                if parameter not in changes:
                    self.stdout.write(f"{label}: {before} 그대로")
                elif check:
                    self.stdout.write(f"{label}: {before} → {_shown(value)} (바꿀 것)")
                else:
                    self.stdout.write(f"{label}: {before} → {_shown(value)}")
            if check:
                if changes:
                    sys.exit(1)
                return
            if not changes:
                self.stdout.write(f"역할 {role}의 {name} 설정에 바꾼 것이 없습니다.")
                return
            target = sql.SQL("ALTER ROLE SESSION_USER IN DATABASE {}").format(sql.Identifier(name))
            with transaction.atomic(using=database):
                for parameter, value in changes.items():
                    if value is None:
                        statement = sql.SQL("{} RESET {}").format(target, sql.Identifier(parameter))
                    else:
                        statement = sql.SQL("{} SET {} = {}").format(
                            target, sql.Identifier(parameter), sql.Literal(int(value))
                        )
                    cursor.execute(statement.as_string(connection.connection))
        self.stdout.write(
            self.style.SUCCESS(
                f"역할 {role}의 {name} 설정을 바꿨습니다. 새 세션부터 적용됩니다: 이미 열린 "
                "연결(워커마다의 풀, PgBouncer의 서버 연결)은 다시 연결할 때까지 전의 값을 "
                "씁니다. PgBouncer라면 server_lifetime이 지나거나 관리 콘솔에서 RECONNECT할 때입니다."
            )
        )


def _shown(value) -> str:
    """A stored or wanted value as people read it: '5000 ms', '5s' as stored, or 없음."""
    if value is None:
        return "없음"
    text = str(value)
    return f"{text} ms" if text.isdigit() else text
