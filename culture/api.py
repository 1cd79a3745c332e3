"""The one NinjaAPI of the site, mounted at /api/v1/. Each resource brings its own Router."""

from ninja import NinjaAPI

from api import ops as ops_api
from api import stats as stats_api
from api import stories
from api.common import RENDERER
from api.errors import install_database_unavailable_handler, install_exception_handlers
from api.resources import RESOURCES, mount

DESCRIPTION = """엔지니어링 문화 스토리 허브의 공개 API입니다.

- **읽기**는 누구나 합니다. 발행된 스토리만 보입니다(초안·예약·내린 스토리는 목록, 개수, 필터,
  정렬, 검색, 상세 어디에도 없고, 그 id는 없는 id와 똑같이 404입니다).
- **쓰기**는 `Authorization: Bearer cs_…` 토큰으로 합니다. 토큰은 편집실(관리자)이나
  `manage.py create_api_token`으로 만들고 한 번만 보여 줍니다. 권한(scope): `stories:write`(초안
  만들기·고치기), `stories:publish`(발행, 발행된 스토리 고치기),
  `stats:read`(조회수 통계: 편집자는 모든 스토리, 작성자는 자기 스토리). 주소(쿼리 문자열)에 넣은 토큰은
  거절합니다.
- **조건부 GET**: 모든 GET은 `ETag`와 `Last-Modified`를 줍니다. `If-None-Match`나
  `If-Modified-Since`가 맞으면 본문 없이 304입니다.
- **동시 편집**: PATCH는 `If-Match`에 스토리의 ETag나 version을 보내야 합니다(없으면 428, 낡았으면 412).
- **요청 한도**: 익명 읽기는 클라이언트마다, 쓰기는 토큰마다 셉니다. 넘으면 429와 `Retry-After`.
- **오류**는 언제나 같은 JSON입니다:
  `{"status": 404, "code": "not_found", "message": "…", "errors": [], "request_id": "…"}`.
  422의 `errors`는 틀린 곳(`loc`)과 이유를 줍니다. `request_id`는 `X-Request-ID` 헤더와 같습니다.
"""


class OneSchemaAPI(NinjaAPI):
    """Builds its OpenAPI schema once per process (and path prefix), not for every request of
    openapi.json: the routes cannot change while the process runs, and building it cost about
    0.14 s of CPU each time the docs page was opened. Every caller gets the one kept schema:
    ninja's openapi.json view only renders it, and nothing may change it."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        kept = self.__dict__.setdefault("_kept_schemas", {})
        if path_prefix not in kept:
            kept[path_prefix] = super().get_openapi_schema(path_prefix=path_prefix)
        return kept[path_prefix]


api = OneSchemaAPI(
    title="컬처 스토리 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url="/docs",
    renderer=RENDERER,
)

api.add_router("/stories", stories.router)
for resource in RESOURCES:
    api.add_router(resource.path, mount(resource))
install_exception_handlers(api)
api.add_router("/ops", ops_api.router)
api.add_router("/stats", stats_api.router)
install_database_unavailable_handler(api)
