"""manage.py import_theteams FILE: bring a TheTeams story-hub page dump into the hub."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.importing import CREATED, import_dump
from articles.models import Kind, Status
from articles.theteams import DumpError


class Command(BaseCommand):
    help = (
        "더팀스 스토리 페이지를 텍스트로 저장한 파일에서 스토리, 회사, 해시태그, 컬렉션을 "
        "가져옵니다. 같은 파일을 다시 가져오면 같은 스토리를 고칩니다."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="가져올 파일 경로 (- 이면 표준 입력)")
        parser.add_argument(
            "--kind",
            choices=Kind.values,
            help="모든 스토리의 종류를 이것으로 정합니다 (기본: 본문을 보고 추정).",
        )
        parser.add_argument(
            "--draft",
            action="store_true",
            help="새 스토리를 발행하지 않고 초안으로 만듭니다.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="아무것도 쓰지 않고 무엇을 할지만 보여 줍니다.",
        )

    def handle(self, *args, file, kind=None, draft=False, dry_run=False, **options):
        data = self.read(file)
        try:
            report = import_dump(
                data,
                kind=kind,
                status=Status.DRAFT if draft else Status.PUBLISHED,
                dry_run=dry_run,
            )
        except DumpError as error:
            raise CommandError(f"{file}: {error} 아무것도 가져오지 않았습니다.") from error

        prefix = "[미리보기: 쓰지 않음] " if dry_run else ""
        for outcome in report.stories:
            article = outcome.article
            details = [
                article.get_kind_display(),
                article.company.name if article.company else "회사 없음",
                f"조회수 {article.view_count}",
                f"해시태그 {len(outcome.parsed.tags)}개",
            ]
            if outcome.changed:
                details.append("바뀐 것: " + ", ".join(outcome.changed))
            self.stdout.write(f"{prefix}{outcome.label:<5} {article.title} ({' · '.join(details)})")
        if report.collection is not None:
            action = {CREATED: "새로 만듦", "updated": "고침"}.get(
                report.collection_action, "그대로"
            )
            self.stdout.write(f"{prefix}컬렉션 {action}: {report.collection.title}")
        style = self.style.WARNING if dry_run else self.style.SUCCESS
        self.stdout.write(style(f"{prefix}스토리 {len(report.stories)}개: {report.totals}"))

    def read(self, file) -> bytes:
        if file == "-":
            import sys

            return sys.stdin.buffer.read()
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: 파일이 없습니다.")
        try:
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: 읽을 수 없습니다 ({error.strerror}).") from error
