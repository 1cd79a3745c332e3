"""Parse a text dump of a TheTeams (더팀스) story-hub page into structured stories.

The dump is what a browser's "save as text" gives for a story-hub page: a few navigation lines,
a curated section title, then one block per story::

    조회수 669
    (blank)
    <title line>
    (blank)
    <the whole body on ONE line>

followed by footer lines. Saving as text lost the HTML structure: paragraphs run into each
other ("…입니다.Redis는…"), some block boundaries survive only as runs of (no-break)
spaces, pull quotes stand alone between such runs, footnote texts sit at the end of the body
each ending with " ↩", their references are bare digits glued to a word ("사용한1"), and the
story's hashtags trail the body.

Gaps of three or more spaces are the page's layout (the empty paragraphs around a question, a
photo or a pull quote); structure.py reads them, and the words, to mark interview questions
bold, photo captions as emphasised paragraphs and steps referred to by number as a numbered
list. A "(클릭)" is all that is left of a button or linked banner whose address the dump lost:
the marker is dropped and the words before it are kept as plain text (a dead link is worse
than none); fidelity_text() leaves such markers out as it does the ↩ back-links.

This module is pure (stdlib only, no Django): `parse_dump` turns the dump into `ParsedStory`
objects with the body restored to Markdown, and `is_faithful` checks the promise the importer
makes: every visible character of the source body (minus the hashtag run and the ↩ and
"(클릭)" markers) is still in the Markdown, in the same order. Restoration only ever *inserts*
characters (newlines, "> ", "## ", "**", "*", "1. ", "[^n]", backslash escapes) or changes
whitespace; it never drops or reorders anything else.
"""

from articles.theteams.page import *  # noqa: F403
from articles.theteams.page import __all__  # noqa: F401
