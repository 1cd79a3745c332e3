"""What the site trusts about a request and adds to every response: the client address that
login throttling and the API's rate limits count, and the Permissions-Policy header."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The address a login attempt came from. Behind a proxy (BEHIND_PROXY) the client is the
    address the proxy appended last to X-Forwarded-For; anything before it was written by the
    client and could name any address to dodge the lockout. The same rule as the API's rate
    limits (NINJA_NUM_PROXIES)."""
    proxies = settings.NINJA_NUM_PROXIES
    forwarded = request.headers.get("x-forwarded-for")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")


class PermissionsPolicyMiddleware:
    """Switch off browser features no page of the site uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response
