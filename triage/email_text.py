"""What a ticket that came in by email says, without what the mail client added.

Tickets created from email carry the customer's message and, below it, the thread it replies to
(a quoted earlier message, often about something else), a signature, a phone-sent line and the
company's legal disclaimer. Those words say nothing about this ticket's category, and a quoted
thread can say something wrong. :func:`message_text` keeps the message: it cuts at a reply
header ("On ... wrote:", Outlook's "-----Original Message-----" or "From:/Sent:" block, Zendesk's
"reply above this line" marker), at a signature delimiter ("-- ") or a disclaimer's first line;
drops quoted lines ("> ...") and "Sent from my ..." lines; and drops a greeting line above the
message ("Hi,") and a closing at its end ("Thanks," and up to two short lines, the name).

Only whole lines that look like these are touched (text without line breaks, as most web forms
and the public datasets give, is left as it is), forwarded messages are kept (what was forwarded is
usually the problem), and a message that would be left empty is returned as it was. The models
read this text; the stored ticket keeps every word.
"""
from __future__ import annotations

import re

_CUT = re.compile("|".join([
    r"^On\b[^\n]{0,200}(?:\n[^\n]{0,200})?\b(?:wrote|writes):[ \t]*$",        # Gmail, Apple Mail, Thunderbird
    r"^-{2,}[ \t]*Original Message[ \t]*-{2,}",                                # Outlook
    r"^From:[^\n]*\n(?:Sent|Date):[^\n]*\n(?:To|Subject):",                    # Outlook's header block
    r"^#{2}-[^\n]*reply above this line[^\n]*-#{2}",                           # Zendesk's delimiter
    r"^-- ?$",                                                                 # signature delimiter
    r"^(?:CONFIDENTIALITY NOTICE|DISCLAIMER)\b",                               # legal footers
    r"^This (?:e-?mail|message)(?: and any (?:attachments?|files)[^\n]{0,40})? (?:is|are|may be) "
    r"(?:confidential|intended (?:only|solely))",
]), re.IGNORECASE | re.MULTILINE)
# A greeting alone on the first line ("Hi,", "Dear support team,"); a closing alone on a line near the
# end ("Thanks in advance,", "Kind regards,"), with at most two short lines after it (name, role).
_GREETING = re.compile(r"\A[ \t]*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))(?:[ \t]+[a-z][\w'-]*){0,3}"
                       r"[ \t]*[,!:.]?[ \t]*\n", re.IGNORECASE)
_CLOSING = re.compile(r"\n[ \t]*(?:thanks|thank you|many thanks|kind regards|best regards|warm regards|regards|best|"
                      r"cheers|sincerely)(?:[ \t]+(?:in advance|so much|a lot|again|all))?[ \t]*[,!.]*[ \t]*"
                      r"(?:\n[^\n]{0,40}){0,2}\Z", re.IGNORECASE)
_DROP_LINE = re.compile(r"^(?:>[^\n]*|Sent from my [^\n]{1,40}|Get Outlook for [^\n]{1,20})$\n?",
                        re.IGNORECASE | re.MULTILINE)


def message_text(body: str) -> str:
    """``body`` without a quoted thread, signature, disclaimer and mail-client lines (see above)."""
    if "\n" not in body:
        return body
    cut = _CUT.search(body)
    kept = body[:cut.start()] if cut else body
    kept, dropped = _DROP_LINE.subn("", kept)
    kept = kept.strip()
    for frame in (_GREETING, _CLOSING):  # "Hi," above the message, "Thanks, Ann" below it
        kept, n = frame.subn("", kept, count=1)
        dropped += n
    if not cut and not dropped:
        return body
    return kept.strip() or body
