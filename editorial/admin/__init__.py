"""The editors' room: the Django admin, in Korean, for every content model and account."""

from django.contrib import admin

from editorial.admin import accounts, content, stories

admin.site.site_header = "컬처 스토리 편집실"
admin.site.site_title = "컬처 스토리 편집실"
admin.site.index_title = "편집"

__all__ = ["accounts", "content", "stories"]
