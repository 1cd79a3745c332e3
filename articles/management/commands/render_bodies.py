"""manage.py render_bodies: render every story's body to HTML again with today's renderer.

A story's HTML is made when it is saved, so a change to the renderer (heading ids with the h-
prefix, links marked ugc) reaches a story only at its next save. Run this after such a change.
It writes only the HTML (no revision, no new version of the story, no change to updated_at),
and drops the cached pages once. A body that cannot be rendered in time keeps its old HTML
and is named in the output.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from articles import versions
from articles.models import Article
from articles.rendering import RenderTimeout, render_body


class Command(BaseCommand):
    help = (
        "모든 스토리의 본문 HTML을 지금의 렌더러로 다시 만듭니다. 제목 앵커나 링크 속성 같은 "
        "렌더링 규칙이 바뀐 뒤에 실행하세요. 리비전과 수정 시각은 바뀌지 않습니다."
    )

    def handle(self, *args, **options):
        changed, slow = 0, []
        stories = Article.objects.only("pk", "title", "body", "body_html").order_by("pk")
        for story in stories.iterator(chunk_size=200):
            try:
                html = render_body(story.body)
            except RenderTimeout:
                slow.append(story)
                continue
            if html != story.body_html:
                Article.objects.filter(pk=story.pk).update(body_html=html)
                changed += 1
        if changed:
            with transaction.atomic():
                versions.bump()
        for story in slow:
            self.stderr.write(f"{story.pk}번 ‘{story.title}’: 제시간에 그리지 못해 그대로 둡니다.")
        self.stdout.write(
            self.style.SUCCESS(f"스토리 {changed}개의 본문 HTML을 다시 만들었습니다.")
        )
