"""Tokens in the editors' room: made by staff, shown once, revoked with one action."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from tokens.models import ApiToken, Scope


class ApiTokenForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label="권한",
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="토큰으로 할 수 있는 일. 토큰 사용자의 권한을 넘지는 못합니다.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["scope_choices"].initial = self.instance.scope_list

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("만료 시각은 미래여야 합니다.")
        return expires_at

    def save(self, commit=True):
        self.instance.scopes = " ".join(sorted(self.cleaned_data["scope_choices"]))
        return super().save(commit=commit)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = [
        "name",
        "prefix",
        "user",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "state",
    ]
    list_filter = ["revoked_at", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "scope_choices", "expires_at"]
        return ["user", "name", "prefix", "scope_choices", "expires_at", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        # The owner of an existing token cannot change: what it did is recorded under that user.
        if obj is not None:
            return ["user", *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description="상태")
    def state(self, obj):
        if obj.revoked_at is not None:
            return "폐기"
        if obj.expires_at is not None and obj.expires_at <= timezone.now():
            return "만료"
        if not obj.user.is_active:
            return "사용자 비활성"
        return "사용 중"

    def save_model(self, request, obj, form, change):
        raw = None if change else obj.new_secret()
        super().save_model(request, obj, form, change)
        if raw is not None:
            self.message_user(
                request,
                f"토큰을 만들었습니다. 지금 한 번만 보여 드리니 안전한 곳에 복사해 두세요: {raw}",
                messages.WARNING,
            )

    @admin.action(description="선택한 토큰 폐기하기")
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
        for token in tokens:
            self.log_change(request, token, "폐기했습니다.")
        self.message_user(request, f"토큰 {len(tokens)}개를 폐기했습니다.", messages.SUCCESS)
