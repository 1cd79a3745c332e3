"""The one NinjaAPI of the site, mounted at /api/v1/. Each resource brings its own Router."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="컬처 스토리 API",
    version="1",
    description="엔지니어링 문화 스토리 허브의 공개 API입니다. 모든 오류는 같은 JSON 모양으로 답합니다.",
    urls_namespace="api",
    docs_url="/docs",
)
