"""ops.http.ContentSecurityPolicyMiddleware: django-csp's headers, the settings' policy built
once per process."""

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, NONE, SELF
from csp.utils import build_policy
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from ops.http import ContentSecurityPolicyMiddleware


def answer(response=None, path="/", nonce=False):
    request = RequestFactory().get(path)

    def view(request):
        if nonce:
            request.asked_nonce = str(request.csp_nonce)
        return response or HttpResponse("ok")

    middleware = ContentSecurityPolicyMiddleware(view)
    return request, middleware(request)


def directives(policy: str) -> dict:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_header_is_the_settings_policy_and_follows_a_change_of_it():
    _, response = answer()
    assert directives(response[HEADER]) == directives(build_policy())
    assert HEADER_REPORT_ONLY not in response
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [NONE]}}):
        _, response = answer()
        assert directives(response[HEADER]) == {"default-src": ["'none'"]}
    _, response = answer()
    assert directives(response[HEADER]) == directives(build_policy())


def test_a_report_only_policy_goes_in_its_own_header():
    ro = {"DIRECTIVES": {"img-src": [SELF]}, "EXCLUDE_URL_PREFIXES": ["/quiet/"]}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=ro):
        _, response = answer()
        report_only = directives(response[HEADER_REPORT_ONLY])
        assert report_only == directives(build_policy(report_only=True))
        assert report_only["img-src"] == ["'self'"]
        assert HEADER in response
        _, response = answer(path="/quiet/page")
        assert HEADER_REPORT_ONLY not in response
        assert HEADER in response


def test_a_header_already_set_or_an_exempt_answer_is_left_alone():
    own = HttpResponse("ok")
    own[HEADER] = "default-src 'self' https://example.com"
    _, response = answer(own)
    assert response[HEADER] == "default-src 'self' https://example.com"
    exempt = HttpResponse("ok")
    exempt._csp_exempt = True
    _, response = answer(exempt)
    assert HEADER not in response


def test_an_answer_with_a_policy_of_its_own_or_a_nonce_goes_through_django_csp():
    updated = HttpResponse("ok")
    updated._csp_update = {"img-src": ["https://pictures.example.com"]}
    _, response = answer(updated)
    assert "https://pictures.example.com" in directives(response[HEADER])["img-src"]
    with_nonce = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=with_nonce):
        request, response = answer(nonce=True)
        assert f"'nonce-{request.asked_nonce}'" in directives(response[HEADER])["script-src"]
        _, response = answer()
        assert directives(response[HEADER])["script-src"] == ["'self'"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    request, _ = answer()
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
