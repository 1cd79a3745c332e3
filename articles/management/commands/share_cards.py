"""manage.py share_cards: make the link-preview cards ahead of the first reader, and remove the
cards no story needs any more.

Cards are otherwise drawn on the first request for them (reader/share.py) and a story's older
cards are removed when its new one is stored; this command also draws the cards of every
published story without a cover (--stories) and removes the cards of stories that were deleted
or are no longer public. Without the Korean font it stops with the reason.
"""

from django.core.management.base import BaseCommand, CommandError

from articles import sharecards
from articles.models import Article


class Command(BaseCommand):
    help = (
        "링크 미리보기 공유 카드를 미리 만들고, 지워졌거나 공개되지 않은 스토리의 카드를 "
        "지웁니다. --stories를 주면 커버가 없는 공개 스토리의 카드도 모두 만듭니다."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stories",
            action="store_true",
            help="커버가 없는 모든 공개 스토리의 카드도 만듭니다.",
        )

    def handle(self, *args, stories=False, **options):
        published = Article.objects.published().select_related("company")
        try:
            sharecards.site_png()
            drawn = 0
            if stories:
                for article in published.filter(cover_image="").iterator(chunk_size=200):
                    sharecards.story_png(article)
                    drawn += 1
        except sharecards.FontMissing as error:
            raise CommandError(str(error)) from None
        removed = sharecards.remove_story_cards(set(published.values_list("pk", flat=True)))
        self.stdout.write(
            self.style.SUCCESS(
                f"사이트 카드와 스토리 카드 {drawn}개를 준비했고, "
                f"필요 없는 카드 {len(removed)}개를 지웠습니다."
            )
        )
