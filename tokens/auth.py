"""Bearer-token authentication for the API, reusable by any router.

    from tokens.auth import TokenAuth

    @router.get("/db", auth=TokenAuth(scope="ops:read"), response=...)

A request passes when its ``Authorization: Bearer cs_…`` header holds a usable token (not
revoked, not expired, its user active) that carries the scope. A missing or wrong token answers
401; a good token without the scope, or whose user lacks the Django permissions the operation
names, answers 403. The token is then ``request.auth`` and its user ``request.user``.
"""

from collections.abc import Iterable

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from tokens.models import ApiToken, Scope


class TokenAuth(HttpBearer):
    def __init__(self, scope: str, *, perms: Iterable[str] = ()) -> None:
        if scope not in Scope.values:
            raise ValueError(f"Unknown token scope {scope!r}: use one of {Scope.values}.")
        self.scope = scope
        self.perms = tuple(perms)
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = ApiToken.from_plain_text(token.strip())
        if api_token is None:
            return None
        if not api_token.has_scope(self.scope):
            raise AuthorizationError(message=f"이 토큰에는 {self.scope} 권한이 없습니다.")
        if self.perms and not api_token.user.has_perms(self.perms):
            raise AuthorizationError(
                message="토큰 사용자에게 이 일을 할 권한이 없습니다. 관리자에게 문의하세요."
            )
        api_token.touch()
        request.user = api_token.user
        return api_token
