"""Make an API token for a user and print it, the only time it is shown."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tokens.models import ApiToken, Scope


class Command(BaseCommand):
    help = "API 토큰을 만들고 한 번만 출력합니다. 예: create_api_token admin --scope stories:write"

    def add_arguments(self, parser):
        parser.add_argument("username", help="토큰으로 한 일이 기록될 사용자")
        parser.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            required=True,
            dest="scopes",
            help="토큰의 권한. 여러 번 쓸 수 있습니다.",
        )
        parser.add_argument("--name", default="명령으로 만든 토큰", help="토큰의 용도")
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="며칠 뒤 만료할지 (기본: 만료 없음)"
        )

    def handle(self, *args, username, scopes, name, expires_in_days, **options):
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"사용자 {username!r}가 없습니다.")
        if not user.is_active:
            raise CommandError(f"사용자 {username!r}는 비활성 상태라 토큰을 쓸 수 없습니다.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days는 1 이상이어야 합니다.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        token, raw = ApiToken.issue(user=user, name=name, scopes=scopes, expires_at=expires_at)
        # The note goes to stderr so that `TOKEN=$(manage.py create_api_token …)` gets the token.
        self.stderr.write(
            f"{token.prefix} 토큰을 만들었습니다({token.scopes}). 다시 볼 수 없으니 지금 복사하세요:"
        )
        self.stdout.write(raw)
