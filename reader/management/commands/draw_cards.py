"""manage.py draw_cards: draw and store the cards of the published stories whose stored card is
missing or no longer current (reader/stored_cards.py). Safe to run at any time and as often as
wanted: a card that is current is not drawn again (--all draws every one)."""

from django.core.management.base import BaseCommand, CommandError

from reader.stored_cards import BATCH, draw_all


class Command(BaseCommand):
    help = (
        "공개된 스토리 중 저장된 카드가 없거나 지금 보여 줄 것과 달라진 스토리의 카드를 그려 "
        "저장합니다. 배포, 가져오기, 시드 뒤에, 그리고 몇 분마다 실행하세요."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="현재인 카드도 다시 그립니다.")
        parser.add_argument("--batch", type=int, default=BATCH, help="한 번에 그릴 카드 수")

    def handle(self, *args, **options):
        if options["batch"] < 1:
            raise CommandError("--batch는 1 이상이어야 합니다.")
        stored, looked_at = draw_all(options["all"], options["batch"])
        self.stdout.write(
            self.style.SUCCESS(
                f"카드 {stored}개를 그려 저장했습니다 (살펴본 스토리 {looked_at}개)."
            )
        )
