"""Add the views buffered in Redis to the database (articles/viewbuffer.py).

Run one per deployment, next to the web servers (a systemd unit, a container): it flushes every
VIEW_FLUSH_SECONDS until stopped (SIGTERM or SIGINT end it after the flush at work). Two running
by mistake are harmless: a Redis lock lets one flush at a time, and a batch is added once.
"""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles import viewbuffer


class Command(BaseCommand):
    help = "Redis에 쌓인 조회수를 주기마다 데이터베이스에 반영합니다."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="한 번만 반영하고 끝냅니다 (cron, 배포 직후)."
        )
        parser.add_argument(
            "--period",
            type=float,
            default=None,
            help="반영 주기(초). 기본: VIEW_FLUSH_SECONDS.",
        )

    def handle(self, *args, once=False, period=None, **options):
        if not viewbuffer.enabled():
            raise CommandError(
                "조회수를 Redis에 쌓지 않는 설정입니다 (VIEW_BUFFER, REDIS_URL): 반영할 것이 없습니다."
            )
        period = period or settings.VIEW_FLUSH_SECONDS
        if period <= 0:
            raise CommandError("--period는 0보다 커야 합니다.")
        if once:
            flushed = viewbuffer.flush()
            if flushed is None:
                raise CommandError("다른 프로세스가 조회수를 반영하고 있습니다.")
            self.stdout.write(f"조회수 {flushed.views}회 반영 (스토리 {flushed.stories}개)")
            return
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
        self.stdout.write(f"{period:g}초마다 조회수를 반영합니다.")
        viewbuffer.run(period, stop=lambda: bool(stopping), log=self.stdout.write)
        # The views buffered since the last round, so a stop leaves none behind.
        viewbuffer.run(period, stop=lambda: False, log=self.stdout.write, rounds=1)
