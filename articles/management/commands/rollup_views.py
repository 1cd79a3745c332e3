"""manage.py rollup_views: roll the closed Seoul days of DailyView up for the statistics.

Run it from cron a little after Seoul midnight (after ROLLUP_GRACE); running it again, or on
several hosts at once, does nothing more. The statistics room and API also catch up on demand.
"""

import time

from django.core.management.base import BaseCommand

from articles.rollup import roll_up


class Command(BaseCommand):
    help = "지난 날의 일별 조회수를 통계용으로 집계합니다(이미 한 날은 건너뜁니다)."

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = roll_up()
        seconds = time.perf_counter() - started
        if result.days:
            self.stdout.write(
                f"{result.days}일을 집계했습니다: {result.through}까지 ({seconds:.1f}초)."
            )
        else:
            self.stdout.write(f"집계할 날이 없습니다: {result.through or '아직 없음'}까지 집계됨.")
