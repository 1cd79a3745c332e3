vcl 4.1;

# The HTTP cache in front of the site's balancer (Varnish standing in for a CDN; the cluster run
# starts it with this file). What it keeps and for how long is the site's to say:
#
#   - anonymous pages come with Cache-Control: public, max-age=0, s-maxage=N,
#     stale-while-revalidate=M, an ETag and X-Content-Version (the content version they were
#     rendered under). Varnish keeps them N seconds and may serve them M seconds longer while it
#     fetches a new copy; Varnish's own rules read s-maxage and stale-while-revalidate.
#   - staff pages, previews and anything that sets a cookie say private, no-store: not kept.
#   - after each write the site sends BAN with the new X-Content-Version (EDGE_BAN_URLS,
#     articles/edge.py): every page rendered under another version is dropped.
#
# Used with:  varnishd -f /etc/varnish/culture.vcl -p vcl_path=/etc/varnish -a :80 ...
# where /etc/varnish/culture-backend.vcl names the balancer (or one app host), for example:
#
#   backend default { .host = "127.0.0.1"; .port = "8000"; }

include "culture-backend.vcl";

# Who may ban: the app hosts. Edit to the addresses they send from.
acl site_writers {
    "127.0.0.1";
    "::1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
    "192.168.0.0"/16;
}

sub vcl_recv {
    if (req.method == "BAN") {
        if (client.ip !~ site_writers) {
            return (synth(403, "Only the site's hosts may ban"));
        }
        if (req.http.X-Content-Version !~ "^[0-9]+\.[0-9]+$") {
            return (synth(400, "BAN needs X-Content-Version: <number>.<microseconds>"));
        }
        ban("obj.http.X-Content-Version != " + req.http.X-Content-Version);
        return (synth(200, "Banned"));
    }
    # A reader's cookies mean nothing to the site's pages except a signed-in session (staff,
    # whose pages are private) and `primary` (a browser that has just written, read from the
    # primary database for a few seconds: ops/replica.py): without them, the page is the
    # anonymous one, and other cookies (a CSRF token left by a visit to the admin's sign-in
    # page, say) must not keep it from being shared. The admin, the API and POSTs keep theirs.
    if ((req.method == "GET" || req.method == "HEAD")
        && req.url !~ "^/(admin|api)/"
        && req.http.Cookie !~ "(^|;\s*)(sessionid|primary)=") {
        unset req.http.Cookie;
    }
}

sub vcl_deliver {
    # For the cluster run and for operators: whether this answer came from the edge.
    if (obj.hits > 0) {
        set resp.http.X-Edge = "hit";
        # The site's request id named the request that rendered the answer; a kept copy
        # answers another request, which gets an id of its own (this Varnish's transaction
        # id), so that no two requests ever share one in clients' logs.
        set resp.http.X-Request-ID = "edge-" + server.identity + "-" + req.xid;
    } else {
        set resp.http.X-Edge = "miss";
    }
}
