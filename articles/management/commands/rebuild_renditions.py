"""Make again the renditions of every cover, logo and photo (articles/pictures.py), e.g. after
the widths changed or a storage was restored. Running it twice leaves the same files and
records; a row without a picture loses any record left from an old one."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from articles import pictures


class Command(BaseCommand):
    help = "모든 커버·로고·사진의 크기별 사본을 다시 만듭니다. 여러 번 실행해도 결과가 같습니다."

    def handle(self, *args, **options):
        failed = 0
        for slot in pictures.SLOTS:
            outcomes = Counter()
            rows = slot.model.objects.order_by("pk").values_list("pk", flat=True)
            for pk in rows.iterator():
                outcome = pictures.refresh(slot.model, pk, force=True)
                outcomes[outcome] += 1
                if outcome == pictures.FAILED:
                    name = slot.model.objects.filter(pk=pk).values_list(slot.field, flat=True)
                    self.stderr.write(
                        f"{slot.label} {pk}: 원본을 읽을 수 없습니다 ({name.first()})."
                    )
            failed += outcomes[pictures.FAILED]
            self.stdout.write(
                f"{slot.label}: {outcomes[pictures.MADE]}개 만듦, "
                f"{outcomes[pictures.FAILED]}개 실패, "
                f"{outcomes[pictures.UNCHANGED] + outcomes[pictures.CLEARED]}개는 이미지 없음"
            )
        if failed:
            raise CommandError(
                f"원본을 읽을 수 없는 이미지가 {failed}개 있습니다. 위 목록을 보세요."
            )
