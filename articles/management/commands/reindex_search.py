"""manage.py reindex_search: rebuild the search index of every story.

Saving a story (the admin, the importers, seed_demo) keeps its index up to date. What skips
Article.save() does not: QuerySet.update(), bulk_create(), raw SQL, loaddata, and renaming a
company, person or tag. Run this after them. It rewrites every story's search document in one
transaction, so searches keep answering from the old index until it commits.
"""

from django.core.management.base import BaseCommand

from articles.search import reindex


class Command(BaseCommand):
    help = (
        "모든 스토리의 검색 색인을 다시 만듭니다. update()나 bulk_create()처럼 저장을 "
        "거치지 않고 스토리를 바꾼 뒤, 회사·인물·해시태그 이름을 바꾼 뒤에 실행하세요."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="한 번에 색인할 스토리 수 (기본: 500)",
        )

    def handle(self, *args, batch_size=500, **options):
        count = reindex(batch_size=max(1, batch_size))
        self.stdout.write(self.style.SUCCESS(f"스토리 {count}개의 검색 색인을 다시 만들었습니다."))
