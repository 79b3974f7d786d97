"""What an article must be, wherever it comes from (the API, the console, an imported file): a new
id of letters, digits and ``_.:-`` (so that it can be named in an address; an id a file or an
earlier import gave is kept as given, without control characters), a title that says something,
limits on every field that the tables can hold, an http(s) address."""
from __future__ import annotations

import re

from common.errors import ValidationError

# An article's address, as agents follow it: no control characters or spaces (explicit ranges, so
# the API document's pattern means the same to a JSON-schema validator as to Python).
HTTP_URL = re.compile(r"^https?://[^\x00-\x20\x7f]+$")
ARTICLE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TITLE = 500
MAX_BODY = 200000


def check_article(item: dict, *, new_id: bool = True) -> None:
    """An article as a person or a program writes it: an id of letters, digits and ``_.:-`` (a
    ``new_id`` made here; an id a help desk's export or an earlier import gave, ``new_id=False``,
    may hold other characters, as Banking77's ``reverted_card_payment?``: 200 characters at most,
    no control characters), a title that says something, limits on every field, an http(s)
    address. Raises ValidationError naming the field."""
    given = item.get("id") or ""
    if new_id and not ARTICLE_ID.match(given):
        raise ValidationError("id must start with a letter or digit and hold only letters, digits and _.:- "
                              "(200 characters at most)", field="id")
    if not new_id and (not given.strip() or len(given) > 200 or CONTROL.search(given)):
        raise ValidationError("id must be 1 to 200 characters without control characters", field="id")
    title = item.get("title") or ""
    if not title.strip() or len(title) > MAX_TITLE:
        raise ValidationError(f"title must say something, in {MAX_TITLE} characters at most", field="title")
    for name, limit in (("body", MAX_BODY), ("category", 200), ("url", 2000)):
        value = item.get(name) or ""
        if len(value) > limit:
            raise ValidationError(f"{name} is longer than {limit} characters ({len(value)})", field=name)
    for name in ("id", "title", "body", "category", "url"):
        if "\x00" in (item.get(name) or ""):
            raise ValidationError(f"{name} must not contain NUL characters", field=name)
    if item.get("url") and not HTTP_URL.match(item["url"]):
        raise ValidationError("url must be an http(s) address", field="url")
    tags = item.get("tags") or []
    if len(tags) > 50 or any(len(t) > 100 for t in tags):
        raise ValidationError("at most 50 tags of 100 characters each", field="tags")
