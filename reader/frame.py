"""A page's frame drawn once: its template rendered with stand-ins for the page's own parts,
kept per process, and filled in with each page's parts by joining strings.

The story page, the search page, 스토리 홈 and the kind lists (reader/views.py) are frames
around parts written in Python (their content, title, link-preview tags and, for a story,
its JSON-LD): everything else is templates/base.html's head, header and footer and what
their own template adds, the same on every such page. The template engine spent about 0.2 ms
of each page walking that frame (the inheritance, a dozen tags, the context processors);
drawn once, a page costs a join.

page() renders the template with each part's name as a stand-in, and splits what it wrote at
the stand-ins. What the frame shows besides the parts is the settings (the site's name, its
static and script prefix, the URL configuration), the current tab of the header (by the URL
name of the request) and the `flags` given: a frame is kept per template, flags, URL context
and URL name, and all of them are forgotten when a setting changes or a template file is
edited under the development server. A template given to page() shows nothing else of the
request.

The parts are text the template writes as it is ({{ part }} of a SafeString): the caller
escapes them. A stand-in the template escaped, dropped or wrote twice does not make a frame:
that template is rendered every time, as before.

Under the test client a page drawn in a frame reports its template and the view's values
(`context`) as Django's instrumented rendering does (the template_rendered signal), so a test
reads response.context as before; without a listener nothing is sent."""

from django.core.signals import setting_changed
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.test.signals import template_rendered
from django.utils.autoreload import file_changed
from django.utils.safestring import mark_safe

from articles.models.common import url_context

# Marks a stand-in: a private-use character, which no template or setting of the site writes.
MARK = "\ue000"

# template name, flags, parts' names, URL context, URL name -> the frame's pieces: literal
# text at even positions, a part's name at odd ones. None: no frame can be made.
_frames: dict[tuple, tuple[str, ...] | None] = {}


def page(
    request,
    template_name: str,
    parts: dict[str, str],
    flags: dict | None = None,
    *,
    context: dict | None = None,
) -> str:
    """What render_to_string(template_name, {**flags, **parts}, request) writes, where each of
    `parts` is safe text (escaped by the caller) and `flags` hold the few other values the
    template tests (hashable values: each set of flags has a frame of its own). `context`:
    the values the parts were made from, for tests."""
    flags = flags or {}
    if template_rendered.has_listeners():
        shown = Context({**(context or {}), **flags, **parts})
        template_rendered.send(
            sender=page, template=get_template(template_name).template, context=shown
        )
    match = getattr(request, "resolver_match", None)
    key = (
        template_name,
        tuple(flags.items()),
        tuple(parts),
        url_context(),
        match.url_name if match else None,
    )
    try:
        pieces = _frames[key]
    except KeyError:
        pieces = _frames.setdefault(key, _frame(request, template_name, tuple(parts), flags))
    if pieces is None:
        values = {name: mark_safe(text) for name, text in parts.items()}
        return render_to_string(template_name, {**flags, **values}, request)
    written = list(pieces)
    written[1::2] = [parts[name] for name in pieces[1::2]]
    return "".join(written)


def _frame(request, template_name, names, flags) -> tuple[str, ...] | None:
    stand_ins = {name: mark_safe(f"{MARK}{name}{MARK}") for name in names}
    pieces = render_to_string(template_name, {**flags, **stand_ins}, request).split(MARK)
    written = pieces[1::2]
    if len(pieces) % 2 == 0 or sorted(written) != sorted(names):
        return None
    return tuple(pieces)


def forget_frames(**kwargs) -> None:
    _frames.clear()


setting_changed.connect(forget_frames)
# The development server reloads templates when their files change; frames drawn from them go.
file_changed.connect(forget_frames)
