"""The models read what the customer wrote: an email's quoted thread, signature, disclaimer and
mail-client lines are cut from the text they see, and nothing else is."""
import pytest

from triage.email_text import message_text
from triage.tables import ticket_text

pytestmark = pytest.mark.engine_independent  # the PostgreSQL pass leaves it out (tests/conftest.py)

REPLY = ("Hi,\nmy card payment was declined twice today at the grocery store.\n\nThanks,\nJohn\n\n-- \n"
         "John Smith | Acme Corp\n+1 555 0100\n\nOn Mon, 3 Jun 2024 at 10:02, Support <help@bank.com>\nwrote:\n"
         "> Your new card has shipped.\n> Regards")


@pytest.mark.parametrize("body, kept", [
    (REPLY, "my card payment was declined twice today at the grocery store."),
    ("Hi team,\nOn my laptop the app crashes.\nWhat do I do?", "On my laptop the app crashes.\nWhat do I do?"),
    ("Dear support team,\nThe portal is down.\n\nMany thanks in advance,\nPriya Nair\nFinance", "The portal is down."),
    ("The VPN drops every hour.\nSent from my iPhone", "The VPN drops every hour."),
    ("Printer jammed again\n\n-----Original Message-----\nFrom: IT\nSent: Monday\nTo: me", "Printer jammed again"),
    ("Can't log in.\n\nFrom: Jane Doe <jane@x.com>\nSent: Tuesday 9:00\nTo: Support\nSubject: RE: login\n\nReset?",
     "Can't log in."),
    ("Refund please\n\nThis email and any attachments are confidential and intended solely for you.", "Refund please"),
    ("Order 118 is late\n##- Please type your reply above this line -##\nolder thread", "Order 118 is late"),
    ("Still broken.\n> quoted line one\n> quoted line two\nAny news?", "Still broken.\nAny news?"),
])
def test_what_the_mail_client_added_is_cut(body, kept):
    assert message_text(body) == kept


@pytest.mark.parametrize("body", [
    "---------- Forwarded message ---------\nFrom: customer\nMy order never arrived.",  # a forward is the problem
    "> only a quote",  # nothing would be left
    "one line that says On Monday he wrote: something",  # no line breaks: as web forms and the datasets give
    "Hi there, my card was declined\nplease help",  # a greeting with the message on its line
    "The app still crashes\nThanks, but the update did not help",  # thanks with more to say
    "  \nleading blank line kept as it was\n",
])
def test_everything_else_is_left_as_it_is(body):
    assert message_text(body) == body


def test_the_models_read_the_message_and_the_subject():
    assert ticket_text("Card declined", REPLY) == "Card declined\nmy card payment was declined twice today at the grocery store."
    assert "shipped" not in ticket_text("Card declined", REPLY) and "Acme" not in ticket_text(None, REPLY)


def test_an_html_email_is_read_as_its_message():
    html = ('<div dir="ltr"><p>Hi,</p><p>The <b>export</b> button does nothing&nbsp;since Monday.</p>'
            '<p>Thanks,<br>Ann</p></div><div class="gmail_quote"><div>On Mon, 3 Jun 2024 at 10:02, '
            'Support &lt;help@x.com&gt; wrote:</div><blockquote>Your invoice is attached.</blockquote></div>')
    assert ticket_text("Export broken", html) == "Export broken\nThe export button does nothing since Monday."
