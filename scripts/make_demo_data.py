#!/usr/bin/env python3
"""Generate the synthetic kb-triage demo help desk for "Northdeck".

Northdeck is a fictional team-workspace / project-management SaaS product
(boards, cards, docs, automations, integrations, mobile and desktop apps).
This script writes a self-contained, deterministic demo data set that the
kb-triage service can be developed and evaluated against:

* ``<out>/articles/<id>.md``  - knowledge-base articles with YAML-style front
  matter (id, title, category, tags) followed by a Markdown body.
* ``<out>/tickets.csv``       - past support tickets labelled with category,
  support tier (L1/L2) and the KB article that resolved them (empty when no
  article did; a share of those come from recurring "content gap" themes).
* ``<out>/README.md``         - a short description with counts.

All text is synthetic and was written for this project. Every random choice
goes through a single ``random.Random(seed)`` instance, so the same seed and
ticket count always produce byte-identical output.

Usage::

    python scripts/make_demo_data.py [--out kb/demo_data] [--seed 7] [--tickets 2400]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import re
import random
import string
import sys
import unicodedata
from collections import Counter, namedtuple
from pathlib import Path

PRODUCT = "Northdeck"
REFERENCE_END = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)  # data ends the day before
HISTORY_DAYS = 272  # roughly nine months of history

CATEGORIES = [
    "login_sso",
    "billing",
    "data_export",
    "integrations",
    "mobile_app",
    "notifications",
    "performance",
    "api",
    "account_admin",
    "bugs",
    "security_privacy",
]

PLANS = ["free", "team", "business", "enterprise"]
PLAN_NAMES = {"free": "Free", "team": "Team", "business": "Business", "enterprise": "Enterprise"}
PLAN_CODES = {"f": "free", "t": "team", "b": "business", "e": "enterprise"}
PLAN_WEIGHTS = {"free": 0.30, "team": 0.34, "business": 0.25, "enterprise": 0.11}

CHANNELS = ["email", "chat", "web", "phone"]

# ---------------------------------------------------------------------------
# Knowledge-base articles
# ---------------------------------------------------------------------------

Article = namedtuple("Article", "id title category tags body")
ARTICLES: list[Article] = []


def _article(aid: str, title: str, category: str, tags: list[str], body: str) -> None:
    """Register one KB article (body is Markdown without the H1 title)."""
    ARTICLES.append(Article(aid, title, category, tags, body.strip("\n")))


# --- login_sso --------------------------------------------------------------

_article("reset-password", "Reset your Northdeck password", "login_sso",
         ["password", "reset", "sign-in"], """
Forgotten your password, or want to change it? You can reset it yourself in a couple of minutes. This article covers accounts that sign in with an email address and password. If your company signs in through single sign-on (SSO), your password is managed by your identity provider, and Northdeck can't reset it for you.

## Reset a forgotten password

1. Go to **app.northdeck.io/login** and click **Forgot password?** under the password field.
2. Enter the email address you use for Northdeck and click **Send reset link**.
3. Open the email from **no-reply@mail.northdeck.io** with the subject "Reset your Northdeck password".
4. Click **Choose a new password**. The link works once and expires after 60 minutes.
5. Enter a new password (at least 10 characters, and not one of your last 5 passwords) and click **Save and sign in**.

Resetting your password signs you out everywhere else, including the mobile and desktop apps.

## Change your password while signed in

Open your avatar (top right) → **Profile & preferences** → **Password & security**, then click **Change password**. You'll need your current password. Workspace settings don't have a password option, because passwords belong to your personal account, not to a workspace.

## The reset email doesn't arrive

- Wait five minutes, then check spam, junk, and any "Updates" or quarantine folders.
- Make sure you typed the address you signed up with. For security, we show the same confirmation whether or not an account exists.
- Ask your IT team to allow mail from **mail.northdeck.io**. Some corporate filters hold new senders for up to an hour.
- If you requested several links, only the newest one works. Older links show "This link has expired or was already used".
- If you see "This account uses single sign-on", sign in with **Continue with SSO** instead.

## If this doesn't help

If the email still hasn't arrived after an hour, contact support from **help.northdeck.io** and tell us the address on your account. We verify ownership before making any change, and we never reset passwords over chat or phone.
""")

_article("sign-in-with-google-or-microsoft", "Sign in with Google or Microsoft", "login_sso",
         ["google", "microsoft", "sign-in", "oauth"], """
You can sign in to Northdeck with a Google or Microsoft account instead of a password. This works on every plan, including Free, and it's separate from SAML single sign-on, which Business and Enterprise workspaces can set up for the whole company.

## Sign in with Google or Microsoft

1. On the sign-in page, click **Continue with Google** or **Continue with Microsoft**.
2. Choose the account whose email address matches your Northdeck account.
3. Approve the permissions screen the first time. Northdeck only asks for your name, email address and profile photo.

If the email address from Google or Microsoft doesn't match an existing account, Northdeck creates a **new, empty account**. This is the most common reason people think they've "lost" their workspaces after switching sign-in methods. Sign out, then sign in again with the original email address.

## Link or unlink a sign-in method

Go to your avatar → **Profile & preferences** → **Password & security** → **Sign-in methods**. From here you can connect Google or Microsoft to an existing password account, or remove a method. You must always keep at least one method connected. Your projects, history and workspaces don't change when you add a method.

## Common errors

- **"This app is blocked by your administrator"**: your Google Workspace or Microsoft 365 admin restricts third-party apps. Ask them to allow "Northdeck" in their app access controls.
- **"Need admin approval"** (Microsoft): your tenant requires an administrator to consent to new apps once for the whole organization. After that, everyone can sign in.
- **"Use your company's SSO to sign in"**: your workspace enforces SAML SSO, so the Google and Microsoft buttons are turned off for your email domain.

## If this doesn't help

Note the exact error and the email address you chose, and send them to support. If you ended up with a duplicate empty account, we can delete it for you so it doesn't cause confusion later.
""")

_article("sso-okta-setup", "Set up single sign-on with Okta", "login_sso",
         ["sso", "okta", "saml"], """
Business and Enterprise workspaces can require members to sign in through Okta using SAML 2.0. Once SSO is on, people sign in with their Okta credentials and Okta's MFA policies apply. You need to be a Northdeck workspace **Owner or Admin** and an Okta administrator.

## Before you start

- Verify your email domain in **Workspace settings → Security → Domains**. SSO only applies to verified domains.
- Keep a second browser session signed in as an Owner while you test, so you can't lock yourself out.

## Create the app in Okta

1. In the Okta Admin Console, go to **Applications → Applications → Browse App Catalog** and search for **Northdeck**. You can also create a custom **SAML 2.0** app instead.
2. In Northdeck, open **Workspace settings → Security → Single sign-on** and click **Configure SAML**. Copy the **ACS URL** and **Entity ID** shown there.
3. Paste them into Okta as the **Single sign-on URL** and **Audience URI (SP Entity ID)**.
4. Set **Name ID format** to *EmailAddress* and **Application username** to *Email*.
5. Add the attribute statements `firstName` and `lastName` (optional, used for display names).
6. Assign the app to the people or groups who should use Northdeck.

## Finish in Northdeck

1. In Okta, open the app's **Sign On** tab and copy the **Metadata URL**.
2. Back in Northdeck, paste it into **IdP metadata URL** and click **Save**.
3. Click **Test connection**. You should land back in Northdeck, signed in.
4. When the test works, turn on **Require SSO for verified domains**.

Members who are already signed in stay signed in until their session ends. Guests whose email addresses are outside your verified domains keep using passwords or Google/Microsoft sign-in.

## If this doesn't help

If the test fails, note the error code (for example **SSO-104**) and see "Troubleshoot SAML single sign-on errors". For a test that fails without a code, send us the SAML response captured with your browser's developer tools; remove anything you consider sensitive first.
""")

_article("sso-entra-id-setup", "Set up single sign-on with Microsoft Entra ID", "login_sso",
         ["sso", "entra-id", "azure-ad", "saml"], """
This guide connects Microsoft Entra ID (formerly Azure Active Directory) to Northdeck with SAML 2.0. SAML SSO is included on the Business and Enterprise plans. You need to be an Owner or Admin in Northdeck, and at least a Cloud Application Administrator in Entra ID.

## Add Northdeck as an enterprise application

1. In the Microsoft Entra admin center, go to **Identity → Applications → Enterprise applications → New application**.
2. Click **Create your own application**, name it "Northdeck", and choose the non-gallery option.
3. Open **Single sign-on** and choose **SAML**.
4. In Northdeck, go to **Workspace settings → Security → Single sign-on → Configure SAML** and copy the **Entity ID** and **ACS URL**.
5. In Entra, paste them into **Identifier (Entity ID)** and **Reply URL (Assertion Consumer Service URL)**.
6. Under **Attributes & Claims**, set the **Unique User Identifier** to `user.mail`. If some people have no mailbox, use `user.userprincipalname`, but only if it matches the email address they use in Northdeck.

## Connect the two

1. In Entra, copy the **App Federation Metadata Url** from the **SAML Certificates** section.
2. Paste it into **IdP metadata URL** in Northdeck and click **Save**.
3. Under **Users and groups** in Entra, assign the people or groups who need access.
4. Click **Test connection** in Northdeck, then turn on **Require SSO for verified domains**.

## Things to know

- The signing certificate Entra creates is valid for three years. Northdeck emails workspace Owners 30 days before it expires. Because you used the metadata URL, a rotated certificate is picked up automatically within 24 hours; you don't need to re-upload anything.
- Error **SSO-105 "User is not assigned to this application"** means the person isn't assigned under **Users and groups**, directly or through a group.

## If this doesn't help

Check "Troubleshoot SAML single sign-on errors" for the error code you see. If you're stuck, contact support with your workspace URL and a screenshot of the Entra **Basic SAML Configuration** panel.
""")

_article("sso-troubleshooting-errors", "Troubleshoot SAML single sign-on errors", "login_sso",
         ["sso", "saml", "errors", "troubleshooting"], """
When SAML sign-in fails, Northdeck shows an error page with a code that starts with **SSO-**. Use the code to find the cause below. Admins on Business and Enterprise can also see failed attempts in **Workspace settings → Audit log**, filtered by "SSO sign-in failed".

## Error codes

**SSO-101: No Northdeck account for this email.** The identity provider sent an email address that doesn't belong to any member. Invite the person first, or turn on **Just-in-time provisioning** in **Security → Single sign-on** so accounts are created at first sign-in.

**SSO-102: Signature could not be verified.** The certificate Northdeck has on file doesn't match the one your identity provider signs with. This usually happens right after a certificate rotation. Re-upload the metadata, or switch to a metadata URL so changes are picked up automatically.

**SSO-103: Assertion expired.** The SAML response is older than 5 minutes, or the clock on your identity provider's server is wrong. Check the server's time sync. It also appears when someone uses the browser Back button inside the sign-in flow.

**SSO-104: Audience mismatch.** The Entity ID (Audience URI) in your identity provider doesn't exactly match the one in Northdeck. Look for a missing trailing slash, or `http` instead of `https`.

**SSO-105: User not assigned.** The person isn't assigned to the Northdeck app in your identity provider.

## Sign-in loops back to the login page

If the page keeps reloading without an error, third-party cookies or a privacy extension are usually blocking the session cookie. Try a private window with extensions off. On managed devices, ask IT to allow cookies for **app.northdeck.io**.

## Locked out because of SSO

If SSO is broken for everyone, the workspace Owner can still sign in with a password at **app.northdeck.io/login?bypass_sso=owner**. The bypass works only for the Owner, and every use is written to the audit log.

## If this doesn't help

Contact support with the error code, the time of the attempt (with time zone), and the affected email address. Our team can look up the matching SAML request in our logs.
""")

_article("account-locked-too-many-attempts", "Unlock your account after too many sign-in attempts",
         "login_sso", ["lockout", "password", "sign-in"], """
To protect accounts from password guessing, Northdeck temporarily blocks sign-in after repeated failed attempts. You'll see **"Too many sign-in attempts. Try again in 30 minutes. (AUTH-429)"**.

## How the lock works

- After **10 failed password attempts within 15 minutes**, sign-in for that email address is paused for **30 minutes**.
- The lock applies to the email address, not your device, so switching browsers or using the mobile app won't help.
- Repeated locks on the same day double the wait each time, up to 24 hours.
- You'll get an email titled "Unusual sign-in activity" if the attempts came from a location you haven't used before.

## Get back in

1. Wait for the time shown on the error page. Don't keep trying; each attempt during the lock extends it.
2. If you don't remember your password, use **Forgot password?**. A successful reset clears the lock immediately.
3. Sign in with the new password.

Workspace admins can't unlock accounts for members, because the lock belongs to the person's account rather than the workspace. The reset link is the fastest route.

## If you didn't cause the lock

If you got an "Unusual sign-in activity" email and you weren't trying to sign in, someone may be guessing your password. Reset it, turn on two-step verification (see "Turn on two-step verification"), and check **Profile & preferences → Password & security → Active sessions** for devices you don't recognize.

## If this doesn't help

If you're still locked out after the wait and a password reset, or you think your account was taken over, contact support and choose **Account security** as the topic. We handle those requests first.
""")

_article("logged-out-repeatedly", "Why you keep getting signed out", "login_sso",
         ["session", "sign-in", "cookies", "logout"], """
Northdeck keeps you signed in for 30 days on the web and 90 days in the mobile apps, as long as you use the app at least once in that period. If you're signed out more often than that, one of the causes below is usually responsible.

## Common causes

- **Your workspace has a session policy.** Enterprise admins can set a shorter session length (from 1 to 720 hours) in **Workspace settings → Security → Session policy**. When your session ends you'll see "Your session has expired (AUTH-440)".
- **Your browser clears cookies.** Settings like "Clear cookies and site data when you close all windows", or privacy tools that delete cookies, sign you out every time you close the browser. Add an exception for **app.northdeck.io**.
- **Your password was changed.** Changing or resetting your password ends all other sessions.
- **SSO session length.** With single sign-on, your identity provider may end sessions earlier than Northdeck does. For example, an 8-hour session policy in your identity provider sends you back to its sign-in page every working day.
- **Several accounts in one browser.** Signing in to a second Northdeck account in the same browser profile replaces the first session. Use a separate browser profile for each account.

## Steps to try

1. Open **Profile & preferences → Password & security → Active sessions** and check that your current device appears.
2. Add a cookie exception for app.northdeck.io, or turn off automatic cookie clearing.
3. Ask your admin whether a session policy is set.
4. Update the desktop or mobile app to the latest version.

## If this doesn't help

Send support the approximate times you were signed out, your browser and version, and whether it happens on other devices too. If it only happens on one network, mention any VPN or proxy you use; some proxies strip the session cookie.
""")

# --- billing ----------------------------------------------------------------

_article("change-plan-upgrade-downgrade", "Upgrade or downgrade your plan", "billing",
         ["plans", "upgrade", "downgrade", "annual"], """
Workspace Owners and Billing admins can change the plan at any time from **Workspace settings → Billing → Plan**. Northdeck has four plans: **Free**, **Team**, **Business** and **Enterprise**. You can switch between Free, Team and Business yourself; Enterprise is arranged with our sales team.

## Upgrade

1. Go to **Workspace settings → Billing → Plan** and click **Change plan**.
2. Choose **Team** or **Business**, and monthly or annual billing. Annual billing is about 20% cheaper.
3. Confirm the number of seats and enter a payment method if you don't have one on file.
4. Click **Upgrade now**.

Paid features are available immediately. You're charged a prorated amount for the rest of the current billing period, not a full month (see "How seats and prorated charges work").

## Downgrade

1. Go to **Workspace settings → Billing → Plan** and click **Change plan**.
2. Pick the lower plan and review the list of features you'll lose.
3. Click **Schedule downgrade**.

Downgrades take effect at the end of the current billing period, and we don't refund the difference for time already paid. Before moving to Free, check its limits: 10 members, 5 active projects, 2 GB of storage and 100 automation runs per month. If you're over a limit, existing content stays, but you'll need to archive projects before creating new ones.

Downgrading from Business turns off SAML single sign-on and the audit log. Make sure everyone has a password or Google/Microsoft sign-in first.

## Switch between monthly and annual

Switching from monthly to annual happens right away and is prorated, so the unused part of this month is credited. Switching from annual to monthly takes effect at your next renewal date.

## If this doesn't help

If the **Change plan** button is greyed out, you're probably not an Owner or Billing admin. Ask your workspace Owner; you can see who that is under **Workspace settings → Members**, filtered by role.
""")

_article("download-invoices-receipts", "Find and download invoices and receipts", "billing",
         ["invoices", "receipts", "billing-details"], """
Northdeck emails a receipt to the billing contact after every successful payment. You can also download every invoice from your billing history at any time.

## Download an invoice

1. Go to **Workspace settings → Billing → Invoices**.
2. Find the invoice by date or number (invoice numbers look like **INV-2026-004812**).
3. Click **Download PDF**.

Only Owners and Billing admins can see this page. If your finance team needs invoices automatically, add their addresses under **Billing → Billing details → Invoice recipients**. You can add up to five addresses, and they don't need to be workspace members.

## What's on an invoice

Each invoice lists the plan, billing period, number of seats, any prorated adjustments, credits and tax. Invoices are issued in **US dollars, euros or British pounds**, depending on the currency chosen when the subscription started. The currency can't be changed on an active subscription.

## Change the company name or address

Update **Billing → Billing details**. Changes apply to future invoices. To reissue an invoice from the last 90 days with the new details, open it and click **Regenerate with current details**. Older invoices can't be changed because they've already been reported for tax purposes.

## Invoice statuses

- **Paid**: payment was collected; the PDF doubles as a receipt.
- **Open**: we tried to charge your card and it failed, or you pay by bank transfer and the payment hasn't arrived yet.
- **Void**: the invoice was cancelled, usually after a plan change in the same billing period.

## If this doesn't help

If an invoice is missing or the amount looks wrong, reply to the receipt email or contact billing@northdeck.io with the invoice number. Billing disputes are handled by our billing specialists, usually within two business days.
""")

_article("update-payment-method", "Update your payment method", "billing",
         ["payment", "credit-card", "bank-transfer", "purchase-order"], """
Northdeck accepts Visa, Mastercard and American Express on all paid plans. Annual Business and Enterprise plans can also pay by bank transfer against an invoice.

## Update your card

1. Go to **Workspace settings → Billing → Payment method**.
2. Click **Replace card** and enter the new card details.
3. Click **Save**. Some banks ask you to approve the card with a 3-D Secure check in your banking app.

The new card is used for the next charge. If you have an open invoice after a failed payment, click **Pay now** on that invoice to retry it with the new card straight away.

## Why your card was declined

Declines come from your bank, and we only see a general reason. The most common reasons are:

- The card has expired or been replaced, and the new number hasn't been added.
- Your bank blocks foreign or online transactions. Our charges appear as **NORTHDECK* SUBSCRIPTION** and are processed in the United States or Ireland.
- The 3-D Secure approval wasn't completed within 10 minutes.
- A company card has reached its monthly spending limit.

## Pay by invoice (bank transfer)

Bank transfer is available for annual Business subscriptions of at least 20 seats, and for all Enterprise subscriptions. Request it from **Billing → Payment method → Request invoice billing**. Payment terms are 30 days from the invoice date. Purchase order numbers can be added under **Billing details → PO number** so they appear on every invoice.

## If this doesn't help

If the card keeps being declined, call your bank first; they can see the exact reason. If your bank says the charge was never attempted, contact support with the last four digits of the card and the time you tried. We never ask for full card numbers by email or chat.
""")

_article("failed-payment-past-due", "What happens when a payment fails", "billing",
         ["payment-failed", "past-due", "read-only"], """
If a payment for your Northdeck subscription fails, your workspace doesn't lose anything right away. Here's what happens and how to fix it.

## Timeline after a failed payment

- **Day 0**: the charge fails. The billing contact and the Owner get an email titled "Payment failed for your Northdeck workspace", and a red banner appears for Owners and Billing admins.
- **Days 3, 5 and 7**: we retry the card automatically.
- **Day 14**: if the invoice is still unpaid, the workspace becomes **read-only**. Everyone can still see and export their work, but nobody can create or edit content.
- **Day 30**: the workspace moves to the **Free** plan. Projects over the Free limit are archived, not deleted, and come back when you upgrade again.

## Fix a failed payment

1. Go to **Workspace settings → Billing → Invoices** and open the invoice marked **Open**.
2. Click **Pay now** and use the current card, or choose **Use a different card**.
3. When the payment succeeds, the banner disappears and read-only mode ends within a couple of minutes.

Updating the card on its own doesn't pay the open invoice until the next automatic retry, so use **Pay now** if your team is already read-only.

## If you pay by bank transfer

Invoices paid by bank transfer have 30-day terms, so the timeline above starts from the due date, not the invoice date. Transfers can take 3 to 5 business days to reach us. If you have paid and the invoice still shows **Open**, send the remittance advice to billing@northdeck.io.

## If this doesn't help

If the workspace is read-only even though the invoice shows **Paid**, sign out and back in. If it persists, contact billing@northdeck.io with the invoice number. If you think you were charged twice, include both charges as they appear on your statement; we refund any duplicate charge.
""")

_article("seats-and-prorated-charges", "How seats and prorated charges work", "billing",
         ["seats", "proration", "guests", "invoices"], """
Paid Northdeck plans are billed per seat. Every member and admin uses a seat. Guests are free, up to three guests per paid seat; beyond that, each extra guest uses a seat.

## When seats are added

Seats are added automatically when someone accepts an invitation, when an admin changes a guest to a member, or when SCIM or just-in-time SSO creates an account. You're charged a **prorated amount** for the rest of the billing period.

For example, on the Team plan billed monthly at $10 per seat, adding one person halfway through the month adds about $5 to the next invoice.

## When seats are removed

- **Monthly plans**: deactivating or removing a member frees the seat straight away. You get a prorated credit that's applied to your next invoice. Credits aren't paid back to your card.
- **Annual plans**: removed seats stay paid until the renewal date. You can reuse them for new people at no extra cost in the meantime.

## Control who can add seats

On Team and Business, members can invite people by default. To avoid unexpected charges, go to **Workspace settings → Members → Invitation settings** and choose **Only admins can invite members**. You can also set a **seat limit**; when it's reached, new invitations wait for admin approval.

## Why the seat count looks wrong

- Deactivated members don't use a seat. Pending invitations don't either, but they will once accepted.
- Guests over the free allowance are counted as seats. **Billing → Plan** shows how many of your guests are paid.
- People who belong to several workspaces use a seat in each one.

## If this doesn't help

Download the member list from **Workspace settings → Members → Export CSV** and compare it with the invoice. If the numbers still don't match, send both to billing@northdeck.io and we'll reconcile them.
""")

_article("vat-tax-id", "Add a VAT or tax ID to your invoices", "billing",
         ["vat", "tax", "invoices", "reverse-charge"], """
If your business is registered for VAT, GST or a similar sales tax, add your tax ID to Northdeck so it appears on invoices and, where the law allows, the tax is reverse-charged.

## Add a tax ID

1. Go to **Workspace settings → Billing → Billing details**.
2. Under **Tax ID**, choose the type (for example **EU VAT**, **UK VAT**, **Australian ABN** or **Canadian GST/HST**) and enter the number with its country prefix, such as `DE123456789`.
3. Click **Save**. EU and UK VAT numbers are checked against the official registries, which usually takes a few seconds.

If the number can't be validated, you'll see **"We couldn't verify this tax ID"**. Check the country prefix and remove any spaces or dots. The EU validation service is sometimes unavailable; if so, try again later.

## How tax is calculated

- Tax is based on the billing address, not on where your team members are.
- With a valid EU VAT number from outside Ireland, invoices show 0% VAT and the note "Reverse charge".
- US sales tax applies in states where we're registered, based on the billing ZIP code.

## Invoices already issued

A tax ID applies from the next invoice. Invoices from the last 90 days can be regenerated from **Billing → Invoices** with **Regenerate with current details**, but the tax charged on them doesn't change automatically. If VAT was charged on those invoices and you want it credited, contact billing@northdeck.io.

## Tax-exempt organizations

US nonprofits and public institutions with a tax exemption certificate can email it to billing@northdeck.io. The exemption is applied once our team has reviewed the certificate, usually within three business days.

## If this doesn't help

Contact billing@northdeck.io with the tax ID, the country, and the invoice numbers involved.
""")

_article("cancel-subscription-refunds", "Cancel your subscription and our refund policy", "billing",
         ["cancel", "refunds", "subscription"], """
You can cancel a paid Northdeck subscription at any time. Cancelling moves the workspace to the Free plan at the end of the period you've already paid for; your content isn't deleted.

## Cancel your subscription

1. Go to **Workspace settings → Billing → Plan**.
2. Click **Cancel subscription** at the bottom of the page. Only the Owner and Billing admins see this link.
3. Tell us why you're leaving (optional) and click **Confirm cancellation**.

You keep paid features until the end of the current billing period. You can reverse the cancellation before then with **Resume subscription**.

## Refund policy

- **Monthly plans** aren't refunded for partial months.
- **Annual plans** cancelled within 30 days of the first payment or a renewal are refunded in full.
- After 30 days, annual plans aren't refunded, but you keep paid features until the end of the term.
- Charges for seats added by mistake can be credited if you remove the seats within 7 days.

Refunds go back to the original payment method and take 5 to 10 business days to appear.

## What happens after cancellation

Once the workspace is on Free, the Free limits apply: 10 members, 5 active projects and 2 GB of storage. Extra members aren't removed, but you'll need to deactivate some before inviting anyone new. Extra projects become read-only until they're archived or you upgrade again.

If you'd rather delete everything, see "Delete a workspace or your account".

## If this doesn't help

If you were charged after cancelling, or believe you qualify for a refund that wasn't applied, email billing@northdeck.io with your workspace URL and the invoice number. Refund requests are reviewed by our billing team and answered within two business days.
""")

# --- data_export ------------------------------------------------------------

_article("export-board-csv", "Export a project to CSV or Excel", "data_export",
         ["export", "csv", "excel", "spreadsheet"], """
You can export any project you can view to a spreadsheet. CSV export is available on every plan; Excel (.xlsx) export is available on Team, Business and Enterprise.

## Export a project

1. Open the project and click the **⋯** menu next to the project name.
2. Choose **Export → Export to CSV** or **Export → Export to Excel**.
3. Choose what to include:
   - **Current view only**: uses the filters and columns you see right now.
   - **All cards**: includes every card, including those hidden by filters.
   - **Include archived cards**: off by default.
4. Click **Export**. Small projects download straight away. For larger ones we email you a link when the file is ready; the link works for 7 days.

## What's in the file

Each row is a card. Columns include card ID, title, list, assignees, due date, start date, labels, description (as plain text), created and updated dates, and one column per custom field. Subtasks appear as separate rows with a **Parent ID**. Comments aren't included in spreadsheet exports; use a full workspace export if you need them.

Dates are written in ISO format (`2026-04-30`) and in your profile time zone.

## Opening the file in Excel

If accented letters or emoji look garbled, import the CSV instead of double-clicking it: in Excel use **Data → From Text/CSV** and choose **65001: Unicode (UTF-8)**. Or export to .xlsx, which doesn't have this problem.

## Limits

A single export can include up to 50,000 cards. Larger projects show **"Export failed (EXP-413)"**; export them one list or date range at a time using filters and **Current view only**.

## If this doesn't help

If an export never arrives, check that emails from mail.northdeck.io aren't blocked, then try again. If it still fails, send support the project URL and the time of the export.
""")

_article("full-workspace-export", "Export your entire workspace", "data_export",
         ["export", "backup", "workspace", "json"], """
Workspace Owners and Admins on the **Business** and **Enterprise** plans can export the whole workspace in one go: every project, card, doc, comment and attachment. Use it for backups, audits or moving data to another system.

## Start an export

1. Go to **Workspace settings → Import & export**.
2. Under **Full workspace export**, click **Start export**.
3. Choose whether to include **attachments** and **archived items**.
4. Click **Export**.

Exports run in the background and usually take between 10 minutes and a few hours, depending on size. Exports over 100 GB can take up to 24 hours. When the export is ready, the person who started it gets an email with a download link that works for **7 days**.

## What you get

A ZIP file with:

- `workspace.json`: spaces, projects, members, roles and settings.
- `projects/<project-id>.json`: cards, comments, checklists, custom fields and activity history.
- `docs/`: every doc as Markdown and as JSON.
- `attachments/`: original files, in folders by project (if you chose to include them).

Big exports are split into several ZIP files of up to 10 GB each.

## Limits

- One full export can run at a time per workspace, and you can start up to 3 per day.
- Files stored in Google Drive, Dropbox or OneDrive are linked, not copied, so they aren't in the export.
- Private projects are included only if the person exporting is the Owner.

## On Free and Team

Full workspace export isn't included on Free or Team. You can still export each project to CSV (see "Export a project to CSV or Excel").

## If this doesn't help

If the export is stuck at "Preparing" for more than 24 hours, or the download link shows "Expired", start a new export. If it fails again, contact support with the export ID shown on the **Import & export** page.
""")

_article("import-from-trello-asana", "Import projects from Trello or Asana", "data_export",
         ["import", "trello", "asana", "migration"], """
Northdeck can import boards from Trello and projects from Asana, including lists or sections, cards or tasks, checklists, labels, due dates, comments and attachments. The importers are available on every plan, but your plan's limits apply to what you import.

## Import from Trello

1. Go to **Workspace settings → Import & export → Import** and choose **Trello**.
2. Click **Connect to Trello** and approve access. We only read data; nothing is changed in Trello.
3. Pick the boards you want and choose the Northdeck space to import into.
4. Match Trello members to Northdeck members. Unmatched people appear as "Imported user" on cards and comments.
5. Click **Start import**.

## Import from Asana

1. Go to **Import & export → Import → Asana** and connect your Asana account.
2. Select the projects. Sections become lists, and subtasks become Northdeck subtasks. Only one level is kept; deeper subtasks are flattened under their top-level task.
3. Match members and click **Start import**.

Imports run in the background, and you'll get an email when each project is done. A 1,000-card board usually takes a few minutes.

## What doesn't come across

- Trello Power-Ups and Asana rules. Recreate them as Northdeck automation rules.
- Custom field types we don't support are imported as text.
- Attachments over your plan's file size limit (25 MB on Free, 250 MB on Team, 1 GB on Business, 5 GB on Enterprise) are skipped and listed in the import report.

## If the import fails

Open **Import & export → Import history** and click the import to see its report. **"Access revoked"** means the Trello or Asana connection expired; reconnect and retry. Re-running an import creates a new copy rather than updating the earlier one, so delete the partial copy first.

## If this doesn't help

Send support the import ID from **Import history**. Please don't start the same import several times in a row; duplicates are harder to clean up.
""")

_article("import-csv-spreadsheet", "Import tasks from a CSV file", "data_export",
         ["import", "csv", "spreadsheet"], """
If your tasks live in a spreadsheet, or in a tool we don't have a direct importer for, you can import them from a CSV file.

## Prepare your file

- Save it as **CSV UTF-8** (in Excel: **File → Save As → CSV UTF-8 (Comma delimited)**).
- Put column names in the first row. Each following row becomes a card.
- Keep to **5,000 rows** and **10 MB** per file. Split larger files.
- Write dates as `YYYY-MM-DD` (for example `2026-07-15`). Other formats are interpreted using your profile's locale, which is where most date mistakes come from: `03/04/2026` is March 4 in the US and April 3 in most other countries.
- For several assignees or labels in one cell, separate them with commas and wrap the cell in quotes.

## Import the file

1. Open the project you want to import into and click **⋯ → Import → From CSV**.
2. Upload the file. Northdeck shows a preview of the first 20 rows.
3. Map each column to a field: **Title** (required), **Description**, **List**, **Assignees** (by email), **Due date**, **Labels**, or a custom field. Columns set to **Don't import** are skipped.
4. Click **Import**.

Values in the List column that don't match an existing list create new lists. Assignees must be members of the workspace; unknown emails are left blank and listed in the import summary.

## Common errors

- **"Row 1 has no Title"**: the Title column is empty or mapped to the wrong column. This also happens when the file starts with an empty row.
- **"Could not read this file"**: the file isn't CSV, or isn't UTF-8. Save it again as CSV UTF-8.
- **Dates one day off**: dates without a time are read in your profile time zone. Check **Profile & preferences → Preferences → Time zone** before importing.

## If this doesn't help

If the import fails without an error, send support the file (or its first few rows with sensitive data removed) and the name of the project.
""")

_article("download-attachments-bulk", "Download all attachments from a project", "data_export",
         ["attachments", "download", "files", "zip"], """
You can download all the files attached to cards in a project as one ZIP file, instead of opening cards one by one.

## Download all attachments from a project

1. Open the project and click **⋯ → Files**.
2. Use the filters to narrow the list if you need to (file type, uploaded by, date).
3. Click **Select all**, then **Download**.

If the selection is under 2 GB, the ZIP downloads in your browser. Larger selections are prepared in the background, and we email you a link that works for 7 days. Each ZIP contains folders named after the cards the files came from.

## Download from a single card

Open the card, hover over the attachment and click the download arrow. To get every file on a card, click **Attachments → Download all**.

## What isn't included

- **Linked files** from Google Drive, Dropbox or OneDrive. The ZIP includes a `linked-files.csv` with their URLs instead.
- Images pasted into card descriptions or comments, unless you tick **Include inline images**.
- Files on archived cards, unless you use the **Include archived** filter.

## Storage limits by plan

Free workspaces have 2 GB of storage in total, Team has 100 GB, Business has 1 TB, and Enterprise has custom limits. Check your usage under **Workspace settings → Billing → Usage**. Deleting files and then emptying them from the trash frees storage straight away.

## If this doesn't help

If the ZIP is corrupted or incomplete, try again with a smaller selection. Some antivirus tools interrupt large ZIP downloads; try a different network or ask IT to allow downloads from **files.northdeck-cdn.net**. If it still fails, contact support with the project URL.
""")

_article("restore-deleted-items", "Restore deleted cards, docs and projects", "data_export",
         ["trash", "restore", "deleted", "archive"], """
Deleted cards, docs, lists and projects go to the trash first, so you can bring them back if someone removed them by mistake.

## Restore from the trash

1. In the left sidebar, click **Trash** (at the bottom, under your spaces).
2. Find the item. You can filter by type, project and who deleted it.
3. Click **Restore**. The item goes back to where it was, with its comments, attachments and history.

If the original list or project no longer exists, you'll be asked to choose a new location.

## How long items stay in the trash

Items stay in the trash for **30 days** on all plans, then they're permanently deleted. Enterprise admins can extend this to up to 365 days in **Workspace settings → Security → Data retention**.

Members can restore items they can edit. Only Owners and Admins can restore whole projects, or items deleted by someone else in a private project.

## Archived is not deleted

Archiving hides a card or project but keeps it. To find archived items, open the project and click **⋯ → Archived items**, or use the **Archived** filter in search. Archived projects don't count towards the 5 active projects on the Free plan.

## Emptying the trash

Owners can click **Empty trash** to delete everything in it immediately, for example to free storage. This can't be undone, and support can't recover items afterwards.

## Items older than 30 days

After permanent deletion, items can't be restored from the app. Northdeck keeps encrypted backups for 35 days for disaster recovery only; we can't restore individual cards from them.

## If this doesn't help

If an item is missing and isn't in the trash, check the project's **Activity** tab to see who moved or deleted it. If you think data was lost because of a problem on our side, contact support right away with the project URL and the approximate time; the sooner we look, the more we can recover.
""")

# --- integrations -----------------------------------------------------------

_article("slack-integration", "Connect Northdeck to Slack", "integrations",
         ["slack", "chat", "channel-notifications"], """
Connect Northdeck to Slack to get project updates in channels, create cards from messages, and unfurl Northdeck links. The Slack integration works on every plan.

## Connect Slack

1. Go to **Workspace settings → Integrations → Slack** and click **Connect**.
2. Choose your Slack workspace and click **Allow**. If your Slack workspace requires app approval, a Slack admin must approve "Northdeck" first.
3. Each person links their own Slack account the first time they use a Northdeck action in Slack.

## Send project updates to a channel

1. Open a project and click **⋯ → Integrations → Slack**.
2. Choose the channel and which events to post: new cards, status changes, comments, due date reminders or completed cards.
3. Click **Save**. For private channels, invite the app first by typing `/invite @Northdeck` in the channel.

## Create cards from Slack

- Use the message shortcut **⋯ → More message shortcuts → Create Northdeck card** on any message.
- Or type `/northdeck create` followed by the card title.

## Personal notifications

Each member can get their own mentions and assignments as Slack direct messages: **Profile & preferences → Notifications → Slack**.

## Troubleshooting

- **No messages in the channel**: check the channel still exists and the app is a member. Archived or renamed-then-archived channels silently stop receiving updates.
- **"This app is not allowed in this workspace"**: a Slack admin has restricted which apps can be used.
- **Links don't unfurl**: the person posting needs to link their account once, and the project must be visible to them.

## If this doesn't help

If the connection shows **Reconnect required**, see "Fix a disconnected integration". Otherwise send support the project URL, the Slack channel name and the time of an update that should have been posted.
""")

_article("microsoft-teams-integration", "Use Northdeck in Microsoft Teams", "integrations",
         ["microsoft-teams", "chat", "tabs"], """
The Northdeck app for Microsoft Teams lets you pin projects as tabs, get notifications from a bot, and create cards from Teams messages. It's available on the Team, Business and Enterprise plans.

## Install the app

1. In Microsoft Teams, open **Apps**, search for **Northdeck**, and click **Add**.
2. If you can't find the app, your Teams admin has probably blocked third-party apps. They can allow it in the Teams admin center under **Teams apps → Manage apps**.
3. Sign in with your Northdeck account when prompted. If your workspace uses SSO, you'll be sent to your identity provider.

## Add a project as a tab

1. In a Teams channel, click **+** at the top of the channel.
2. Choose **Northdeck** and pick the project.
3. Everyone in the channel can see the tab, but each person only sees content they have access to in Northdeck.

## Get notifications in Teams

Go to **Profile & preferences → Notifications → Microsoft Teams** and turn on the events you want; the Northdeck bot sends them as chat messages. Channel notifications are set per project under **⋯ → Integrations → Microsoft Teams**.

## Create a card from a message

Hover over a message, click **⋯ → More actions → Create Northdeck card**, choose a project and list, and click **Create**.

## Known limitations

- Tabs don't work in the Teams web client when third-party cookies are blocked; use the desktop client or allow cookies for app.northdeck.io.
- Notifications to shared (cross-organization) channels aren't supported yet.
- Government clouds (GCC High and DoD) aren't supported.

## If this doesn't help

Try signing out of the Northdeck tab (**⋯ → Sign out**) and signing in again. If notifications stopped for everyone, an admin should check **Workspace settings → Integrations → Microsoft Teams** for a **Reconnect required** status.
""")

_article("google-calendar-sync", "Show due dates in Google Calendar", "integrations",
         ["calendar", "google-calendar", "ical", "due-dates"], """
You can see Northdeck due dates in Google Calendar using a personal calendar feed. The feed is **one-way**: changes in Northdeck show up in Google Calendar, but moving an event in Google Calendar doesn't change the card.

## Add your feed to Google Calendar

1. In Northdeck, open your avatar → **Profile & preferences → Calendar feed**.
2. Choose what to include: **Cards assigned to me**, **Cards I follow**, or specific projects.
3. Click **Copy feed URL**. It starts with `https://cal.northdeck.io/feed/`.
4. In Google Calendar, click **+** next to **Other calendars → From URL**, paste the link and click **Add calendar**.

Cards with a due date appear as all-day events, or as timed events if the due date has a time. Cards with both start and due dates appear as multi-day events.

## How often it updates

Google Calendar decides how often it refreshes subscribed calendars, and it's usually every 8 to 24 hours. Northdeck can't make it refresh faster. If you need changes to show up right away, use the **Calendar view** inside Northdeck instead.

## Other calendar apps

The same feed URL works in any app that supports iCal subscriptions, such as Apple Calendar. Refresh timing depends on the app.

## Keep your feed private

Anyone with the feed URL can see the card titles in it. If you shared it by accident, click **Reset feed URL** on the same page; the old link stops working immediately.

## Common problems

- **Events at the wrong time**: check that **Profile & preferences → Preferences → Time zone** matches your Google Calendar time zone.
- **"Could not fetch the URL"**: the feed was reset, or your workspace admin turned calendar feeds off in **Workspace settings → Security**.

## If this doesn't help

If the feed hasn't updated for more than 24 hours, open the feed URL in your browser. If it downloads a file, the feed is working and the delay is on the calendar app's side. If it shows an error, send the error to support.
""")

_article("github-gitlab-integration", "Link GitHub and GitLab pull requests to cards", "integrations",
         ["github", "gitlab", "developers", "pull-requests"], """
Link GitHub or GitLab to Northdeck to see branches, commits and pull requests (merge requests in GitLab) on the cards they relate to. The integration is available on the Team, Business and Enterprise plans.

## Connect GitHub

1. Go to **Workspace settings → Integrations → GitHub** and click **Connect**.
2. Install the Northdeck GitHub App on your organization and choose **All repositories** or selected ones. An organization owner may need to approve the installation.
3. Back in Northdeck, choose which projects can receive links.

For GitHub Enterprise Server, use **Connect self-hosted** and enter your server URL. The server must be reachable from the internet over HTTPS.

## Connect GitLab

Go to **Integrations → GitLab**, click **Connect**, and authorize with a GitLab account that's a Maintainer on the groups you want to link. Self-managed GitLab 15.0 or later is supported.

## Link work to a card

Every card has a key, such as **WEB-482**, shown at the top of the card. The prefix comes from the project. Include the key in:

- a branch name, for example `web-482-fix-login-redirect`
- a commit message
- a pull request or merge request title or description

The card then shows a **Development** section with the status of each item. You can also add an automation rule that moves a card to **Done** when its pull request is merged.

## Troubleshooting

- **Nothing appears on the card**: check that the repository is included in the GitHub App installation, and that the key matches the card's project prefix.
- **Links stopped appearing**: someone may have uninstalled the app or changed its repository access. Check **Integrations → GitHub**.
- Links aren't added retroactively for commits made before you connected.

## If this doesn't help

Send support the card key, the repository name and a link to the pull request. If you use a self-hosted server, include its version.
""")

_article("zapier-integration", "Connect Northdeck to Zapier", "integrations",
         ["zapier", "automation", "no-code"], """
Use Zapier to connect Northdeck with thousands of other apps without writing code. For example, you can create a card when a form is submitted, or post to a chat tool when a card is completed. The Zapier integration works on every plan; your Zapier plan decides how many tasks you can run.

## Connect Northdeck to Zapier

1. In Zapier, create a Zap and search for **Northdeck** as the trigger or action app.
2. Click **Sign in**, approve access in the Northdeck window, and choose the workspace.
3. Pick a trigger or action and map the fields.

## Available triggers

- New card in a project or list
- Card moved to a list
- Card completed
- New comment
- Custom field changed

## Available actions

- Create card (with custom fields, assignees and labels)
- Update card
- Add comment
- Find card by title or custom field

## Tips

- Triggers are checked every 1 to 15 minutes, depending on your Zapier plan. They aren't instant.
- Assignees are matched by email. If the email doesn't belong to a workspace member, the card is created without an assignee.
- Zaps run as the person who connected the account. If that person leaves and is deactivated, the Zap stops working, so consider connecting Zapier with a shared service account.
- Actions count towards your Northdeck API rate limit.

## Errors in Zap history

- **401 Unauthorized**: the connection was revoked or the person was deactivated. Reconnect in Zapier under **My Apps**.
- **404 Not Found**: the project or list the Zap points to was deleted or archived.
- **429 Too Many Requests**: too many actions at once; Zapier retries automatically.

## If this doesn't help

Share the Zap history entry (the request and response) with support, with any personal data removed. For questions about your Zapier account itself, contact Zapier.
""")

_article("cloud-file-attachments", "Attach files from Google Drive, Dropbox or OneDrive", "integrations",
         ["google-drive", "dropbox", "onedrive", "attachments"], """
Instead of uploading files, you can attach files from Google Drive, Dropbox or OneDrive. Linked files don't use your Northdeck storage, and they always show the latest version.

## Turn on cloud file pickers

An Owner or Admin enables each provider in **Workspace settings → Integrations → File storage**. All three are on by default for new workspaces.

## Attach a file

1. Open a card and click **Attach**.
2. Choose **Google Drive**, **Dropbox** or **OneDrive**.
3. Sign in the first time and approve access.
4. Pick one or more files and click **Select**.

## Who can open the file

Northdeck doesn't change sharing settings, so people need permission in Drive, Dropbox or OneDrive to open the file. When you attach a Google Drive file that others can't open, Northdeck offers to share it with the card's members as **Viewer** or **Commenter**. For Dropbox and OneDrive, update sharing in those apps.

## Previews

Google Docs, Sheets and Slides show a live preview on the card. Previews need third-party cookies for google.com; without them you'll see "Preview unavailable". Dropbox and OneDrive files show a thumbnail and open in a new tab.

## Common problems

- **"You need access"** when opening a Drive file: ask the file owner to share it, or ask the person who attached it to use the share prompt.
- **The picker is empty or won't open**: a pop-up blocker is stopping the sign-in window. Allow pop-ups for app.northdeck.io.
- **OneDrive for Business shows "Need admin approval"**: your Microsoft 365 admin must approve Northdeck once for your organization.
- **Files moved in Drive**: links keep working when files are moved, but not when they're deleted.

## If this doesn't help

Disconnect and reconnect your account under **Profile & preferences → Connected accounts**. If the picker still fails, send support a screenshot and the name and version of your browser.
""")

_article("integration-reconnect-required", "Fix a disconnected integration", "integrations",
         ["integrations", "reconnect", "authorization"], """
If an integration stops working, Northdeck shows a yellow **Reconnect required** label next to it in **Workspace settings → Integrations**, and the person who connected it gets an email. Updates to Slack, Teams or other tools stop until it's fixed.

## Why integrations disconnect

- The person who connected the integration was **deactivated** or removed from the workspace.
- Their access was revoked in the other app, for example an admin removed the Northdeck app in Slack or GitHub.
- The other service rotated tokens or changed its permissions, and we need new approval.
- Your workspace moved to a plan that doesn't include the integration (for example, Microsoft Teams isn't on Free).

## Reconnect

1. Go to **Workspace settings → Integrations** and open the integration marked **Reconnect required**.
2. Click **Reconnect** and approve access again. Use an account that will stay with the company; a shared admin account is a good choice.
3. Check one or two projects to confirm updates start arriving again.

Your settings, such as which channels get which updates, are kept when you reconnect. Events that happened while the integration was disconnected aren't sent afterwards.

## Who can reconnect

Workspace-wide integrations (Slack, Teams, GitHub and GitLab) can be reconnected by the Owner or any Admin. Personal connections, such as your own Google Drive or calendar account, can only be reconnected by you, from **Profile & preferences → Connected accounts**.

## If this doesn't help

If **Reconnect** fails with "Authorization failed", check that you're also an admin in the other app; most tools only let their admins approve workspace-wide apps. If it connects but updates still don't arrive within 15 minutes, contact support with the integration name and the project you tested.
""")

# --- mobile_app -------------------------------------------------------------

_article("mobile-app-requirements", "Install the mobile app", "mobile_app",
         ["mobile", "ios", "android", "install"], """
Northdeck has free apps for iPhone, iPad, and Android phones and tablets. They work with every plan.

## Requirements

- **iPhone and iPad**: iOS or iPadOS 16 or later.
- **Android**: Android 10 or later, with Google Play services.
- At least 300 MB of free storage for the app and offline data.

Chromebooks can use the Android app, but we recommend the web app at app.northdeck.io for the full experience.

## Install

1. Search for **Northdeck** in the App Store or Google Play. The publisher is **Northdeck Inc.**
2. Install and open the app.
3. Sign in with the same method you use on the web: email and password, Google, Microsoft, or **Continue with SSO**.

If your company uses mobile device management (MDM), the app may be pushed to your device, or you may need to install it from your company portal instead.

## Keep the app up to date

We release updates every two weeks. Versions older than six months stop connecting and show **"This version of Northdeck is no longer supported. Please update to continue."** Turn on automatic updates, or update from the store when you see this message. If your MDM holds back updates, ask your IT team to approve the latest version.

## What's different from the web

The apps support boards, lists, cards, comments, docs, the inbox and offline access. Some admin tasks are web-only, including billing, workspace settings, inviting members in bulk, imports and exports, automation rules and SSO setup.

## Older devices

If your device can't run the minimum version, the store may offer an older build. It works until it falls out of support, but won't get fixes. You can always use Northdeck in the phone's browser.

## If this doesn't help

If the app isn't available in your country's store, or your device is listed as incompatible, tell support your device model, operating system version and country.
""")

_article("mobile-sign-in-issues", "Can't sign in to the mobile app", "mobile_app",
         ["mobile", "sign-in", "sso", "ios", "android"], """
If you can sign in on the web but not in the Northdeck mobile app, the cause is usually the sign-in method, an old app version, or a company device policy.

## Check your sign-in method

Use the same method as on the web. If you normally click **Continue with Google**, do the same in the app. Typing an email and password won't work if your account doesn't have a password.

## Signing in with SSO on mobile

1. Tap **Continue with SSO** and enter your work email.
2. The app opens your identity provider's page in an in-app browser.
3. After you sign in, you should be sent back to the app automatically.

If you're left on a blank page or sent back to the start:

- Make sure **Safari** (iOS) or **Chrome** (Android) is installed and not restricted by Screen Time or a work profile; the sign-in page depends on it.
- If your company uses an authenticator app for MFA, finish the approval in that app and then switch back to Northdeck yourself, rather than tapping the notification.
- Update the app. SSO redirects changed in version 6.4, and older versions may loop.

## IP allowlists and device policies

Enterprise workspaces with an IP allowlist also restrict the mobile apps. On mobile data you'll see **"Access from this network isn't allowed by your workspace (AUTH-403)"**. Connect to your company VPN or Wi-Fi.

## Other things to try

1. Force-close the app and open it again.
2. Check that your phone's date and time are set automatically. A wrong clock breaks secure sign-in.
3. Sign out of the app (**Account → Sign out**), reinstall it, and sign in again.

## If this doesn't help

From the sign-in screen, tap **Help → Send diagnostics** (it works without signing in), then contact support with your email address and the diagnostics ID.
""")

_article("mobile-offline-mode", "Work offline in the mobile app", "mobile_app",
         ["mobile", "offline", "sync"], """
The Northdeck mobile apps keep recent work on your device, so you can read and edit when you don't have a connection, for example on a flight.

## What's available offline

- Boards and docs you've opened in the last **14 days**, up to 50 boards.
- Cards on those boards, with their comments and checklists.
- Attachments you've opened before. Other attachments show a placeholder until you're online.

To make sure a board is available, open it while you're online, or tap **⋯ → Keep offline** to pin it. Pinned boards are kept no matter how long ago you opened them.

## Editing offline

You can create cards, edit titles and descriptions, tick checklist items, change dates and add comments. A cloud icon with a line through it appears at the top while you're offline, and each unsynced change shows a small clock icon.

When you reconnect, changes upload automatically. Keep the app open for a few seconds after reconnecting to let it finish.

## Conflicts

If someone else changed the same field while you were offline, the most recent change wins, and the other version is kept in the card's **Activity**, so nothing is lost. For card descriptions and docs, both versions are merged where possible.

## Things you can't do offline

Creating projects, moving cards between projects, uploading files, searching across the workspace and changing sharing settings all need a connection.

## Storage

Offline data usually uses 50 to 300 MB. To free space, go to **Account → Settings → Offline data → Clear offline data**. Unsynced changes are uploaded first; if you're offline, you'll be warned before anything is deleted.

## If this doesn't help

If changes made offline never appear on the web, don't sign out or reinstall the app, because that deletes unsynced changes. Contact support first and we'll help you recover them.
""")

_article("mobile-push-notifications", "Push notifications not arriving on your phone", "mobile_app",
         ["mobile", "push", "notifications", "android", "ios"], """
If Northdeck push notifications aren't showing up on your phone, work through these checks in order. Most problems are caused by phone settings rather than Northdeck.

## 1. Check notifications are allowed

- **iPhone**: **Settings → Notifications → Northdeck** → turn on **Allow Notifications**. Also check **Focus** modes, which can silence apps.
- **Android**: **Settings → Apps → Northdeck → Notifications** → turn on **All Northdeck notifications**, and check each category, such as **Mentions** and **Assignments**.

## 2. Check your Northdeck settings

In the app, tap **Account → Notifications**. Make sure **Push notifications** is on and the events you care about are selected. Push settings are separate from email settings.

## 3. Check quiet hours

If you've set quiet hours, pushes are held until they end. See **Account → Notifications → Quiet hours**.

## 4. Push is skipped while you're active on the web

To avoid double alerts, Northdeck doesn't send a push if you're active in a browser or the desktop app at that moment. The notification still appears in your inbox. Turn on **Always send push** if you want both.

## 5. Battery optimization (Android)

Some Android phones stop background apps to save battery, which delays or blocks notifications. Go to **Settings → Apps → Northdeck → Battery** and choose **Unrestricted**. Some manufacturers also keep lists of "sleeping" apps; remove Northdeck from them.

## 6. Reset the push registration

Sign out of the app and sign in again. This creates a new push token. If you recently moved to a new phone or restored from a backup, this is usually what fixes it.

## If this doesn't help

In the app, go to **Account → Notifications → Send test notification**. If the test arrives but real notifications don't, tell support which events are missing. If the test doesn't arrive, include your phone model, operating system version and app version.
""")

_article("mobile-sync-issues", "Changes not syncing between the app and the web", "mobile_app",
         ["mobile", "sync", "offline"], """
Changes you make in the mobile app should appear on the web within a few seconds, and the other way around. If they don't, use this guide.

## Check the sync status

At the top of a board, the app shows:

- No icon: everything is up to date.
- **Clock icon** on a card: a change is waiting to upload.
- **Cloud with a line through it**: the app is offline.
- **Yellow warning triangle**: a change couldn't be saved.

Tap the warning triangle to see the reason. The most common ones are **"You no longer have edit access"** (someone changed the project's permissions) and **"This card was moved or deleted"**.

## Force a refresh

Pull down on a board or list to refresh it. On iPad you can also press **Cmd+R** with a keyboard attached.

## Changes made on the web don't show in the app

1. Pull to refresh.
2. Check that the app is up to date. Older versions can't read some newer card fields, such as new custom field types.
3. Check you're in the right workspace: tap your avatar to switch.
4. If you use a VPN or strict company Wi-Fi, it may block our real-time connection (`realtime.northdeck.io`). The app then falls back to refreshing every few minutes.

## Changes made in the app don't show on the web

Keep the app open and online for a short while. iOS and Android pause apps soon after you switch away, so uploads may wait until you open the app again.

## Duplicated cards

If creating a card was retried on a weak connection, you may see two copies. Delete one; the other keeps everything.

## If this doesn't help

Don't reinstall the app while there are unsynced changes; they'll be lost. Go to **Account → Help → Send diagnostics** and send the diagnostics ID to support along with the board name.
""")

_article("mobile-app-crashes", "The mobile app crashes or freezes", "mobile_app",
         ["mobile", "crash", "freeze", "ios", "android"], """
If the Northdeck app closes by itself, freezes on the splash screen or shows a blank screen, try these steps.

## Quick fixes

1. **Update the app** from the App Store or Google Play. Many crashes are fixed in the next release, and we ship one every two weeks.
2. **Restart your phone.** This clears memory problems that affect all apps.
3. **Check free storage.** The app needs at least 300 MB free to open reliably. With less, it may crash while loading offline data.
4. **Update your operating system** if an update is waiting. We support iOS 16 and later, and Android 10 and later.

## It crashes when opening one board

Very large boards (more than 2,000 cards), or cards with huge images, can use too much memory on older phones. Open the board on the web and archive old cards, or use a filtered view. Our developers also want to know about it; see below.

## Clear the app's cache

- **iPhone**: **Account → Settings → Offline data → Clear offline data** (if you can reach it), or delete and reinstall the app.
- **Android**: **Settings → Apps → Northdeck → Storage → Clear cache**. Don't tap **Clear storage** unless you have no unsynced changes.

Before reinstalling, make sure any changes you made offline have synced. Reinstalling deletes unsynced changes.

## Crash reports

Crash reports are sent to us automatically if you allowed it when you first opened the app. You can check this under **Account → Settings → Privacy → Share crash reports**.

## If this doesn't help

Contact support with your phone model, operating system version, app version (**Account → About**), and what you were doing when it crashed. If it crashes every time you open a specific board, include the board URL. Crashes affecting many people are handled as bugs by our engineering team, and we'll update you when a fix is released.
""")

# --- notifications ----------------------------------------------------------

_article("email-notification-settings", "Choose which emails you receive", "notifications",
         ["email", "notifications", "preferences", "unsubscribe"], """
Choose which Northdeck emails you get and how often. These settings are personal; each member controls their own.

## Change your email settings

1. Click your avatar → **Profile & preferences → Notifications**.
2. Under **Email**, choose one of:
   - **Everything**: an email for every notification, sent within a few minutes.
   - **Mentions and assignments only** (the default for new accounts).
   - **Digest only**: no individual emails, just the daily or weekly digest.
   - **Off**: no notification emails. You'll still get account and security emails.
3. Click **Save**.

## Per-project settings

To change notifications for one project, open it and click the **bell icon** next to the project name. Choose **All activity**, **Default** or **Muted**. Muted projects send nothing except direct @mentions.

## Emails that can't be turned off

Some emails are always sent because they're about your account or security: password resets, sign-in alerts from new devices, two-step verification changes, invitations and, for Owners, billing and payment emails.

## Unsubscribe links

Every notification email has an **Unsubscribe** link at the bottom. It turns off that type of email only (for example "comments on cards you follow"), not all emails.

## Admin defaults

Owners and Admins can set defaults for new members in **Workspace settings → Notifications → Defaults**. Changing the defaults doesn't overwrite what existing members have already chosen.

## If this doesn't help

If you changed a setting but still get the emails, check you changed it in the right workspace, because settings are stored per workspace. If you still get them after that, forward one to support with its headers so we can see which rule sent it.
""")

_article("notification-emails-not-received", "Not receiving notification emails", "notifications",
         ["email", "notifications", "spam", "deliverability"], """
If you expect Northdeck emails but they don't arrive, the problem is usually a spam filter or a setting. Follow these steps.

## 1. Check your notification settings

Open **Profile & preferences → Notifications** and confirm email isn't set to **Off** or **Digest only**. Check that the project's bell icon isn't set to **Muted**.

## 2. Check spam and quarantine

Search your mailbox, including spam and junk, for **mail.northdeck.io**. If you use Microsoft 365 or Google Workspace, your IT team can also check the quarantine, which you may not be able to see yourself.

## 3. Ask IT to allow our sending domain

Northdeck sends notifications from **notifications@mail.northdeck.io**, signed with SPF, DKIM and DMARC. Ask your email admin to add **mail.northdeck.io** to the allowed senders. If your company rewrites links or scans messages, emails may be delayed by several minutes or more.

## 4. Check for bounces

If an email bounced, we stop sending to that address to protect our sender reputation. You'll see a yellow banner, **"We can't deliver emails to this address"**, in **Profile & preferences**. Fix the mailbox, then click **Try again** in the banner.

## 5. You were active in the app

If you have Northdeck open when something happens, you see it in the app and we skip the email. Notifications you've already read in the inbox aren't emailed either.

## Notifications in the app

The **Inbox** (bell icon at the top left) always shows everything, even if emails are off. Nothing in the inbox either? Check that you follow the card: you only get notifications for cards you created, are assigned to, were mentioned on, or follow.

## If this doesn't help

Contact support with the email address, the time an email should have been sent, and which card or project it was about. We can look up whether the message reached your mail server and what the server replied.
""")

_article("mentions-and-following", "How @mentions and following work", "notifications",
         ["mentions", "following", "notifications"], """
Northdeck notifies you about cards and docs you're involved in. Knowing how following works helps you get the right notifications without the noise.

## How you start following something

You automatically follow a card or doc when you:

- create it
- are assigned to it
- are @mentioned in it
- comment on it

You can also follow anything manually: open the card and click **Follow** at the top right. Click **Following** to stop.

## @mentions

Type **@** followed by a name to mention someone in a comment or description. They get a notification even if they don't follow the card, as long as they have access to the project. If they don't have access, Northdeck asks whether you want to share the card with them.

- **@here** notifies everyone who follows the card.
- **@team-name** notifies every member of a team. Admins can restrict mentions of large teams in **Workspace settings → Notifications**.
- Guests can only be mentioned on projects they've been added to.

## Why someone didn't get notified

- The person was mentioned in a **private** project they aren't a member of.
- They've set the project to **Muted**.
- The name was typed without picking it from the list, so it's plain text, not a mention. Real mentions appear as a blue chip.
- The mention was added by editing an existing comment. Edits notify only newly added people, and only within 10 minutes of the original comment.

## Follow a whole project

Click the project's bell icon → **All activity** to be notified about every card in it. This is useful for small projects, and noisy for large ones.

## If this doesn't help

If a mention shows as a blue chip but the person wasn't notified, send support the card URL and the time of the comment.
""")

_article("daily-and-weekly-digest", "Get a daily or weekly digest", "notifications",
         ["digest", "email", "summary"], """
The digest is a single email that summarizes what happened in your projects, so you don't need an email for every change.

## Turn on the digest

1. Go to **Profile & preferences → Notifications → Digest**.
2. Choose **Daily** or **Weekly** (weekly digests arrive on Monday).
3. Choose the delivery time. Digests are sent within 30 minutes of the time you pick, in your profile time zone.
4. Choose what to include: **My assignments**, **Due soon**, **Overdue**, **Mentions I haven't read** and **Activity in followed projects**.

## Why you didn't get a digest

- There was nothing to report. Empty digests aren't sent.
- Your profile time zone is wrong, so it arrived at an unexpected time. Check **Profile & preferences → Preferences → Time zone**.
- You were active in Northdeck shortly before the send time, and everything in the digest had already been read. Turn on **Always send digest** to get it anyway.

## Digest and individual emails

You can use both. If you pick **Digest only** under **Email**, individual notification emails stop and only the digest is sent. Mentions are still sent straight away unless you also turn off **Send mentions immediately**.

## Project digests

Owners and Admins on Business and Enterprise can schedule a **project digest** to a group address, such as a shared team inbox: open the project, click **⋯ → Project digest**, and add the address. Recipients don't need to be workspace members, but they only see card titles and statuses, not descriptions or comments.

## If this doesn't help

If a digest arrives with the wrong content, for example missing cards assigned to you, forward it to support and tell us which cards you expected. We'll check the filters behind it.
""")

_article("quiet-hours", "Set quiet hours and pause notifications", "notifications",
         ["quiet-hours", "do-not-disturb", "push", "email"], """
Quiet hours stop Northdeck from sending push notifications and emails at times you choose, such as evenings and weekends. Notifications that arrive during quiet hours are held and delivered when quiet hours end.

## Set quiet hours

1. Go to **Profile & preferences → Notifications → Quiet hours**, or in the mobile app **Account → Notifications → Quiet hours**.
2. Turn on **Pause notifications** and choose the start and end time, for example 19:00 to 08:00.
3. Choose the days. Quiet hours can also cover whole days, such as Saturday and Sunday.
4. Click **Save**.

Quiet hours use your profile time zone. If you travel, check that it's right, or turn on **Set time zone automatically**.

## Pause for a while

Click the bell icon in the top left and choose **Pause notifications → 1 hour / Until tomorrow / Custom**. A moon icon appears next to your name so teammates know you're away.

## Let urgent things through

You can allow some notifications during quiet hours:

- **Mentions from specific people**, for example your manager.
- **Cards marked Urgent** that are assigned to you.

Set these under **Quiet hours → Exceptions**.

## What quiet hours don't affect

- The inbox keeps collecting notifications; they just aren't pushed or emailed.
- Account and security emails are always sent.
- Slack and Teams notifications follow the do-not-disturb settings in those apps, not Northdeck's quiet hours.

## Workspace working hours

Business and Enterprise Owners can set default quiet hours for everyone in **Workspace settings → Notifications → Working hours**. Members can change them for themselves.

## If this doesn't help

If notifications still arrive during quiet hours, check the time zone on both your profile and your phone. If they match, tell support when you got the notification and what it was about.
""")

_article("reduce-notification-noise", "Reduce notification noise", "notifications",
         ["notifications", "automation", "noise", "mute"], """
If Northdeck sends you more notifications than you can read, these settings help you keep the important ones and drop the rest.

## Find out where the noise comes from

Open the **Inbox** and use **Group by project**. Usually one or two projects cause most of the notifications.

## Reduce notifications

1. **Mute busy projects**: click the project's bell icon → **Muted**. You'll still get direct @mentions.
2. **Unfollow cards you're done with**: in the inbox, hover over a notification and click **Unfollow**. Or turn on **Unfollow cards when they're completed** in **Profile & preferences → Notifications**.
3. **Switch email to mentions and assignments only**, or to the daily digest.
4. **Turn off "Cards I created"**: if you create a lot of cards for other people, you don't need updates on all of them.

## Automation rules and bulk changes

Changes made by automation rules, imports and the API create notifications just like changes made by people. One rule that updates hundreds of cards can create hundreds of notifications.

- Owners and Admins can open a rule and turn on **Don't notify followers** for that rule.
- For bulk edits in the app (select several cards → **Edit**), **Notify followers** is off by default for changes to more than 20 cards.
- API clients can send the header `X-Northdeck-Notify: false` to skip notifications.

## The same notification in several places

If you get the same notification by email, push and Slack, pick one channel per event type in **Profile & preferences → Notifications**. The table there has a column for each channel.

## If this doesn't help

If you get notifications about projects you can't open or aren't part of, contact support with an example. That shouldn't happen, and we'll investigate it as a priority.
""")

# --- performance ------------------------------------------------------------

_article("speed-up-large-boards", "Speed up large boards", "performance",
         ["performance", "boards", "slow", "archive"], """
Northdeck boards load in about a second for most projects. Very large boards, with thousands of cards or heavy card covers, can become slow. These changes usually help the most.

## Why a board gets slow

- **Number of cards**: boards with more than 2,000 open cards start to slow down, especially in Board view. A project can hold up to 10,000 open cards; archived cards don't count.
- **Card covers and images**: large image covers on every card take time to download and draw.
- **Many custom fields shown on cards**: each visible field adds work to every card.
- **Complex filters and grouping**: grouping by a custom field with many values, or filtering on text, is slower than filtering by assignee or list.

## Speed it up

1. **Archive finished work.** Open the menu of your **Done** list and choose **Archive all cards in this list**, or create an automation rule that archives cards 30 days after they're completed. Archived cards stay searchable.
2. **Hide card covers**: **View options → Card covers → Off**.
3. **Show fewer fields on cards**: **View options → Fields**, and untick the ones you don't need at a glance.
4. **Use a saved filtered view** (for example "My cards" or "This sprint") as your default.
5. **Collapse lists** you rarely look at. Collapsed lists load their cards only when opened.
6. **Use List or Table view** for very large projects. They load cards as you scroll.

## Check it's the board, not your setup

Open a small board in the same browser. If that's slow too, see "Clear your cache and check browser extensions", or check **status.northdeck.io** for incidents.

## If this doesn't help

Contact support with the board URL and roughly when it was slow. If you can, record a performance profile in your browser's developer tools (**Performance → Record**, reload the board, then stop) and attach the file. It helps our engineers find exactly what's slow.
""")

_article("browser-cache-and-extensions", "Clear your cache and check browser extensions", "performance",
         ["browser", "cache", "extensions", "troubleshooting"], """
Many problems with Northdeck in the browser, such as pages that won't load, missing buttons or slow typing, are caused by old cached files or a browser extension. These steps fix most of them.

## Supported browsers

The latest two versions of **Chrome**, **Edge**, **Firefox** and **Safari**. Make sure hardware acceleration is turned on in your browser settings.

## 1. Hard refresh

Press **Ctrl+Shift+R** (Windows, Linux) or **Cmd+Shift+R** (Mac) on any Northdeck page. This reloads the app without using the cache.

## 2. Try a private window

Open a private or incognito window and sign in. Private windows usually run without extensions. If Northdeck works there, an extension or cached data is the cause.

## 3. Clear site data for Northdeck only

- **Chrome or Edge**: click the icon to the left of the address bar → **Site settings → Clear data**.
- **Firefox**: **Settings → Privacy & Security → Cookies and Site Data → Manage Data**, search for "northdeck" and remove it.
- **Safari**: **Settings → Privacy → Manage Website Data**.

You'll be signed out afterwards.

## 4. Check extensions

Turn off extensions one at a time and reload. The most common troublemakers are ad blockers, privacy tools that block scripts or WebSockets, grammar checkers that edit text fields, and extensions that change page styles. Add **app.northdeck.io** to their allow lists.

## 5. Check memory

If a tab has been open for days, close and reopen it. Browsers with dozens of tabs can run out of memory, which makes every page slow, not just Northdeck.

## If this doesn't help

Send support your browser name and version (for example Chrome 126), your operating system, and what you've tried. A screenshot of the browser console (**F12 → Console**) showing any red errors is very helpful.
""")

_article("service-status-and-incidents", "Check Northdeck service status", "performance",
         ["status", "outage", "incident", "sla"], """
If Northdeck suddenly stops loading, loads very slowly, or shows errors for everyone on your team, it may be a service incident rather than a problem on your side.

## Check the status page

Go to **status.northdeck.io**. It shows the current status of each part of the service: web app, mobile apps, API, real-time updates, notifications, integrations and file storage. Our team posts updates at least every 30 minutes during an incident.

Click **Subscribe to updates** to get incident notices by email, SMS or RSS. Enterprise customers can also receive them by webhook.

## Signs of an incident

- **"Something went wrong on our side (ERR-503)"** on many pages.
- Real-time updates stop: changes from teammates appear only after a refresh.
- Notifications or integration messages are delayed. During incidents they're queued and delivered later, not lost.

## If the status page is green

Some problems affect only some customers or regions, and appear on the status page a few minutes after we detect them. Before contacting us:

1. Try a different browser or device.
2. Try a different network, for example your phone's hotspot. If it works there, a firewall or proxy may be blocking us; see "Network and firewall requirements".
3. Check with a colleague whether they're affected too.

## After an incident

We publish a post-incident report for major incidents on the status page within 5 business days. Enterprise customers with a 99.9% uptime SLA can request service credits within 30 days of the incident through their account manager or support.

## If this doesn't help

Contact support with the time the problem started, your workspace URL, the error message, and whether other people are affected. Include your rough location, because some incidents affect only one region.
""")

_article("desktop-app-memory-cpu", "The desktop app uses too much memory or CPU", "performance",
         ["desktop-app", "memory", "cpu", "windows", "macos"], """
The Northdeck desktop app for Windows and macOS normally uses 300 to 600 MB of memory. If it uses much more, or keeps a CPU core busy, try the steps below.

## Requirements

Windows 10 or 11 (64-bit), or macOS 12 or later. The app updates itself in the background; check your version under **Help → About Northdeck**.

## Common causes

- **Many open windows** in the app. Each board window uses its own memory.
- **Very large boards**, or docs with many embedded images or videos.
- **An old version**. Updates often include memory fixes.
- **Hardware acceleration problems** with some graphics drivers, which show up as high CPU use and flickering.

## Steps to try

1. Update the app: **Help → Check for updates**, then restart it.
2. Close windows you're not using. **Window → Close all other windows** keeps just the current one.
3. Turn off **Launch at startup** and **Keep running in the background** under **Preferences → General** if you don't need them.
4. If you see high CPU with flickering, go to **Preferences → Advanced**, turn off **Use hardware acceleration**, and restart the app.
5. Clear the app cache: **Help → Troubleshooting → Clear cache and restart**. Your data is stored on our servers, so this is safe.

## Check what's using memory

Open **Help → Troubleshooting → Process manager** to see how much memory each window uses. If one board stands out, see "Speed up large boards".

## Use the browser instead

If the desktop app stays slow, the web app at app.northdeck.io has the same features and is often lighter, especially on computers with 8 GB of memory or less.

## If this doesn't help

Go to **Help → Troubleshooting → Export diagnostics** and send the file to support, together with your operating system, the app version and how much memory the app was using.
""")

_article("file-upload-limits-and-slow-uploads", "File uploads are slow or fail", "performance",
         ["uploads", "files", "storage", "limits"], """
If file uploads to Northdeck are slow, get stuck at 99%, or fail with an error, check the limits and your network first.

## File size and storage limits

| Plan | Largest single file | Total storage |
|---|---|---|
| Free | 25 MB | 2 GB |
| Team | 250 MB | 100 GB |
| Business | 1 GB | 1 TB |
| Enterprise | 5 GB | Custom |

Files over the limit show **"This file is too large for your plan (UPL-413)"**. When the workspace runs out of storage you'll see **"Your workspace is out of storage (UPL-507)"**. Owners can check usage in **Workspace settings → Billing → Usage**.

## Uploads are slow or stop

1. **Test your connection speed.** Upload speed is often much lower than download speed on home connections.
2. **Upload fewer files at a time.** Up to 10 files upload in parallel; the rest wait in a queue.
3. **Try without a VPN or upload scanner** if you can. Some corporate proxies hold the whole file while they scan it, which makes uploads look stuck at 99%.
4. **Allow files.northdeck-cdn.net** in your firewall. Uploads go there directly, not to app.northdeck.io.
5. **Keep the tab open** until the upload finishes. Closing the card is fine, but closing the tab cancels the upload.

## Uploads from the mobile app

On iOS, uploads pause when the app has been in the background for about 30 seconds, and resume when you open it again. Large videos are best uploaded from a computer.

## Files that aren't allowed

For security, executable files (such as `.exe`, `.msi` and `.bat`) are blocked on all plans. Put them in a ZIP file if you need to share them.

## If this doesn't help

Send support the file type and size, your plan, and the error message. If uploads fail only on your office network, include what you see when you open **https://files.northdeck-cdn.net/ping** in your browser there.
""")

_article("network-and-firewall-requirements", "Network and firewall requirements", "performance",
         ["network", "firewall", "proxy", "websocket"], """
If your company uses a firewall, proxy or content filter, it needs to allow the domains and protocols below for Northdeck to work properly. Share this page with your IT or network team.

## Domains to allow

| Domain | Used for |
|---|---|
| `app.northdeck.io` | Web app and sign-in |
| `api.northdeck.io` | API, mobile and desktop apps |
| `realtime.northdeck.io` | Live updates (WebSocket) |
| `files.northdeck-cdn.net` | File uploads and downloads |
| `static.northdeck-cdn.net` | Scripts, styles and images |
| `mail.northdeck.io` | Email notifications (sender domain) |
| `cal.northdeck.io` | Calendar feeds |

All traffic uses HTTPS on port **443**. We don't publish a fixed list of IP addresses, because our services run on cloud infrastructure that changes. Allow by domain name.

## WebSockets

Live updates use a WebSocket connection to `wss://realtime.northdeck.io`. If a proxy blocks or times out WebSockets, Northdeck still works, but checks for updates only every 60 seconds. You'll see a grey **"Live updates paused"** label at the bottom of boards.

Proxies must allow WebSocket connections to stay open for at least 10 minutes without traffic.

## TLS inspection

If your proxy decrypts and re-signs HTTPS traffic, the mobile and desktop apps may refuse to connect with **"Secure connection failed"**, because they check our certificates. Exclude the domains above from TLS inspection.

## Connections from Northdeck to you

Webhooks and integrations that call your servers come from the IP ranges published at **status.northdeck.io/ips** (JSON). Enterprise workspaces can ask for a fixed egress IP address.

## If this doesn't help

Ask your network team to open **https://app.northdeck.io/network-check** from an affected computer. It tests each domain and the WebSocket connection, and gives a result code you can send to support.
""")

# --- api --------------------------------------------------------------------

_article("api-authentication", "Authenticate with personal access tokens and OAuth", "api",
         ["api", "authentication", "tokens", "oauth"], """
The Northdeck REST API (`https://api.northdeck.io/v2`) accepts personal access tokens for scripts and internal tools, and OAuth 2.0 for apps that other people will use. The API is available on every plan; rate limits differ by plan.

## Create a personal access token

1. Go to your avatar → **Profile & preferences → Developer → Personal access tokens**.
2. Click **Generate token**, give it a name and choose an expiry (30, 90 or 365 days, or no expiry if your admin allows it).
3. Choose scopes, such as `projects:read`, `cards:write` or `webhooks:write`. Give the token only the scopes it needs.
4. Copy the token now. It starts with `ndk_pat_` and won't be shown again.

Send it in the `Authorization` header with the `Bearer` prefix:

```
curl https://api.northdeck.io/v2/me -H "Authorization: Bearer ndk_pat_..."
```

A token can do what you can do in the workspace, limited by its scopes. If you lose access to a project, so does the token.

## OAuth apps

Register an app in **Profile & preferences → Developer → OAuth apps**. Use the authorization code flow with PKCE. Access tokens last 1 hour. Refresh tokens last 60 days and rotate on each use, so always store the newest one; reusing an old refresh token returns `invalid_grant`.

## Admin controls

On Business and Enterprise, Owners can go to **Workspace settings → API & webhooks** to require token expiry, restrict which members can create tokens, and revoke any token.

## Common authentication errors

- **401 `invalid_token`**: the token is wrong, expired or revoked. Check for extra spaces or a missing `Bearer` prefix.
- **403 `insufficient_scope`**: the token lacks a scope. The response names the one required.
- **403 `sso_required`**: your workspace enforces SSO and the token was created before you signed in with SSO. Sign in with SSO and create a new token.

## If this doesn't help

Contact support with the request ID from the `X-Request-Id` response header. Never send us the token itself.
""")

_article("api-rate-limits", "API rate limits and 429 errors", "api",
         ["api", "rate-limits", "429"], """
The Northdeck API limits how many requests each token can make, to keep the service fast for everyone. If you go over the limit you get **HTTP 429 Too Many Requests** with the error code `rate_limited`.

## Limits

| Plan | Requests per minute per token | Burst |
|---|---|---|
| Free | 60 | 20 |
| Team | 120 | 40 |
| Business | 600 | 100 |
| Enterprise | 1,200 (can be raised) | 200 |

There's also a workspace-wide limit of five times the per-token limit, so several tokens in one workspace can't get around the limit together. The search endpoint (`/v2/search`) has its own limit of 30 requests per minute.

## Response headers

Every response includes:

- `X-RateLimit-Limit`: your limit per minute.
- `X-RateLimit-Remaining`: requests left in the current window.
- `X-RateLimit-Reset`: when the window resets (Unix time).

A 429 response also includes `Retry-After`, in seconds.

## Handle 429 errors well

1. Stop and wait for the number of seconds in `Retry-After`.
2. If you get another 429, retry with exponential backoff and some random jitter.
3. Don't retry in a tight loop; repeated 429s can block the token for up to 10 minutes.

## Use fewer requests

- Use **webhooks** instead of polling for changes.
- Ask for up to 100 items per page with `limit=100`.
- Use `fields=` to return only the fields you need, which also makes responses faster.
- Use bulk endpoints, such as `POST /v2/cards/bulk`, to create or update up to 50 cards in one request.

## If this doesn't help

Enterprise customers can ask for higher limits through their account manager; include the expected request volume and the endpoints you use. For unexpected 429s well under the limit, send support a few `X-Request-Id` values.
""")

_article("api-pagination", "Paginate API list endpoints", "api",
         ["api", "pagination", "cursor"], """
List endpoints in the Northdeck API, such as `GET /v2/projects/{project_id}/cards`, return results in pages. Pagination is cursor-based, which stays correct even when cards are added or removed while you're reading.

## How it works

1. Make the first request with an optional `limit` (default 25, maximum 100):

```
GET /v2/projects/prj_8Kd2/cards?limit=100
```

2. The response contains `data` (the items), `has_more` and `next_cursor`:

```
{ "data": [ ... ], "has_more": true, "next_cursor": "eyJpZCI6ImNyZF85..." }
```

3. Pass the cursor to get the next page:

```
GET /v2/projects/prj_8Kd2/cards?limit=100&cursor=eyJpZCI6ImNyZF85...
```

4. Stop when `has_more` is `false`. `next_cursor` is then `null`.

## Things to know

- Cursors expire after **24 hours**. Using an old one returns **400 `cursor_expired`**; start again from the first page.
- Keep the same filters and `limit` on every page. Changing them while reusing a cursor returns **400 `cursor_mismatch`**.
- Results are sorted by creation date, oldest first, unless you pass `sort=updated_at`. With `sort=updated_at`, items changed while you page may appear twice; remove duplicates by `id`.
- Archived cards aren't returned unless you add `include_archived=true`.
- The `offset` parameter from API v1 isn't supported in v2 and is ignored.

## Getting only what changed

To sync changes regularly, use `updated_since=2026-06-01T00:00:00Z` with `sort=updated_at`, and save the timestamp of the last item you processed. Webhooks are even better for this.

## If this doesn't help

If pages are missing items, or the same cursor keeps returning the same page, contact support with the request IDs (`X-Request-Id`) of two consecutive calls.
""")

_article("webhooks-setup-and-signatures", "Set up webhooks and verify signatures", "api",
         ["api", "webhooks", "hmac", "signatures"], """
Webhooks send an HTTP POST to your server when something happens in Northdeck, such as a card being created or moved. They're available on the Team, Business and Enterprise plans.

## Create a webhook

1. Go to **Workspace settings → API & webhooks → Webhooks** and click **New webhook** (Owners and Admins), or create one with `POST /v2/webhooks`.
2. Enter your endpoint URL. It must use HTTPS with a valid certificate.
3. Choose the events, for example `card.created`, `card.updated`, `card.moved` or `comment.created`.
4. Optionally, limit it to some projects.
5. Copy the **signing secret**. It starts with `whsec_`.

## Verify the signature

Every delivery includes a header like:

```
Northdeck-Signature: t=1767225600,v1=5f2b...c9
```

To verify it:

1. Take `t` (the timestamp) and the **raw** request body, exactly as received, before any JSON parsing.
2. Compute HMAC-SHA256 of `t + "." + raw_body` with your signing secret.
3. Compare the result to `v1` using a constant-time comparison.
4. Reject deliveries where `t` is more than 5 minutes old.

The most common mistake is verifying a re-serialized body. Frameworks that parse JSON first change spacing or key order, and the signature won't match.

## Respond quickly

Return a `2xx` status within **10 seconds**, and do heavy work in a background job. Anything else counts as a failure.

## Retries and pausing

Failed deliveries are retried up to 8 times over about 24 hours, with increasing delays. After **72 hours** of consecutive failures the webhook is **paused** and Owners get an email. Fix the endpoint, then click **Resume**. Events from the paused period aren't sent later; use the API with `updated_since` to catch up.

Each delivery has a unique `Northdeck-Delivery-Id` header. Because retries can deliver the same event twice, use it to ignore duplicates.

## If this doesn't help

Open the webhook and click **Recent deliveries** to see each request, your server's response and the timing for the last 7 days. Send support the delivery IDs if something looks wrong.
""")

_article("api-error-codes", "API error codes and what they mean", "api",
         ["api", "errors", "http-status", "troubleshooting"], """
The Northdeck API uses standard HTTP status codes. Error responses also have a JSON body with a machine-readable `code`, a human-readable `message` and a `request_id`:

```
{ "error": { "code": "validation_failed", "message": "due_date must be an ISO 8601 date", "request_id": "req_7Hq2LmX" } }
```

## Client errors (4xx)

- **400 `bad_request`**: the body isn't valid JSON, or a parameter has the wrong type. Check the `Content-Type: application/json` header.
- **401 `invalid_token`**: missing, expired or revoked token.
- **403 `forbidden`**: the token is valid but can't access this project or action. **403 `plan_required`** means the feature isn't included in your plan.
- **404 `not_found`**: the object doesn't exist or you can't see it. For privacy, we return 404 rather than 403 for private projects.
- **409 `conflict`**: the object changed since you read it. Send the latest `version` value from a fresh GET, or leave out the `If-Match` header.
- **422 `validation_failed`**: a value isn't allowed, such as a list ID from another project or a custom field option that doesn't exist. The `details` array names each field.
- **429 `rate_limited`**: see "API rate limits and 429 errors".

## Server errors (5xx)

- **500 `internal_error`**: something went wrong on our side. Retry once after a few seconds. If it repeats for the same request, contact us.
- **502 or 503 `service_unavailable`**: temporary, usually during deploys or incidents. Retry with backoff and check status.northdeck.io.
- **504 `timeout`**: the request took longer than 30 seconds. This happens with very large bulk requests; send smaller batches.

## Safe retries

Requests that create objects accept an `Idempotency-Key` header. If you retry after a 5xx or a network error with the same key, you won't create duplicates.

## If this doesn't help

For 5xx errors, contact support with the `request_id`, the endpoint and the time. We keep detailed request logs for 14 days, so please report errors soon.
""")

_article("api-custom-fields", "Read and write custom fields with the API", "api",
         ["api", "custom-fields"], """
Custom fields are returned and updated through the `custom_fields` object on cards. Each field has an ID that starts with `cf_`, and options of select fields have IDs that start with `opt_`.

## Find field and option IDs

```
GET /v2/projects/{project_id}/custom-fields
```

The response lists every field with its `id`, `name`, `type` (`text`, `number`, `date`, `select`, `multi_select`, `person`, `checkbox`, `url` or `currency`) and, for select fields, its `options`.

Use IDs, not names, in your code. Anyone who can edit the project can rename a field; IDs never change.

## Read custom fields

Card responses include:

```
"custom_fields": { "cf_9a1": "Website redesign", "cf_2bd": 1200, "cf_77e": "opt_hi" }
```

Fields without a value are left out unless you add `include_empty_fields=true`.

## Write custom fields

Send only the fields you want to change with `PATCH /v2/cards/{card_id}`:

```
{ "custom_fields": { "cf_2bd": 1500, "cf_77e": "opt_med" } }
```

- **Select**: send the option ID. Sending the option's name returns **422 `invalid_option`**.
- **Multi-select**: send an array of option IDs. It replaces the current selection.
- **Person**: send a user ID (`usr_...`), not an email address.
- **Date**: send `YYYY-MM-DD`, or a full ISO 8601 timestamp for date-and-time fields.
- **Currency**: send a number; the currency is set on the field itself.
- To clear a field, send `null`.

## Workspace-level fields

Fields created at workspace level (Business and Enterprise) have the same ID in every project that uses them, which makes reporting across projects easier.

## If this doesn't help

If an update returns `200` but the value doesn't change, check that the field is enabled on that card's project with the endpoint above; values for fields that aren't enabled are ignored. Otherwise, contact support with the request ID.
""")

# --- account_admin ----------------------------------------------------------

_article("invite-members-and-guests", "Invite members and guests", "account_admin",
         ["members", "guests", "invitations"], """
Add people to your Northdeck workspace as **members** (your own team) or **guests** (clients, freelancers and other outside collaborators).

## Invite members

1. Click **Invite** at the bottom of the left sidebar, or go to **Workspace settings → Members → Invite**.
2. Enter one or more email addresses, or paste a list separated by commas.
3. Choose a role (Member or Admin) and, optionally, which spaces they join.
4. Click **Send invitations**.

Invitations expire after **14 days**. You can resend or cancel them from **Workspace settings → Members → Pending**.

## Invite guests

Guests only see the projects they're added to. To invite a guest, open a project, click **Share**, enter their email address and choose **Guest**. The Free plan allows up to 10 guests; on paid plans, guests are free up to three per paid seat.

## Invite links

Owners and Admins can create an invite link in **Members → Invite → Invite link**. Anyone with the link can join as a member, so share it only in trusted places. You can limit it to email addresses from your verified domains, and reset it at any time.

## Invitation problems

- **"The invitation has expired"**: ask an admin to resend it.
- **"This invitation was sent to a different email address"**: you're signed in with another account. Sign out and open the link again, or ask for an invitation to the address you use.
- **The invite email never arrives**: the address may be mistyped, or the email was filtered. Admins can copy the invitation link from **Pending** and send it another way.
- **"You can't invite more members"**: the workspace has reached its seat limit, or the Free plan's 10-member limit.

## If this doesn't help

If invitations to a whole email domain never arrive, the recipient's mail server may be rejecting them. Contact support with the domain and the time you sent them.
""")

_article("roles-and-permissions", "Workspace roles and project permissions", "account_admin",
         ["roles", "permissions", "admin", "guests"], """
Northdeck has four workspace roles, plus project-level permissions on Business and Enterprise.

## Workspace roles

- **Owner**: full control, including billing, security settings and deleting the workspace. Each workspace has exactly one Owner.
- **Admin**: manages members, spaces, integrations and most settings. Admins can't delete the workspace or change the Owner.
- **Member**: creates and works on projects in the spaces they belong to.
- **Guest**: works only in the projects they're added to. Guests can't see the member list or create projects.

On Team, Business and Enterprise, you can also make someone a **Billing admin**, who can manage plans, payment methods and invoices without other admin rights. A Billing admin can be a member or a guest.

## Change someone's role

Go to **Workspace settings → Members**, click the role next to the person's name, and choose a new one. Changing a guest into a member uses a paid seat.

## Project permissions (Business and Enterprise)

Each project can give each person or team its own access level:

- **Full access**: edit everything, including project settings and sharing.
- **Can edit**: create and edit cards and docs.
- **Can comment**: read everything and add comments.
- **Can view**: read only.

Set these with **Share** on the project. Private projects are visible only to the people added to them, and to the Owner.

## Space permissions

Spaces group projects for a department or team. Admins choose who can create projects in a space under **Space settings → Permissions**. On the Team plan, all members of a space can edit all of its public projects.

## Who can see what

- Admins can't open private projects they haven't been added to, but they can see that those projects exist and who owns them.
- The Owner can open every project.

## If this doesn't help

If someone can see or edit something they shouldn't, check the project's **Share** panel first, then the person's workspace role. For suspected permission bugs, send support the project URL and the person's email address.
""")

_article("deactivate-or-remove-members", "Deactivate or remove a member", "account_admin",
         ["members", "offboarding", "deactivate", "seats"], """
When someone leaves your team, deactivate or remove them so they can no longer access the workspace and you stop paying for their seat.

## Deactivate a member

1. Go to **Workspace settings → Members**.
2. Find the person, click **⋯** next to their name, and choose **Deactivate**.
3. Choose who takes over their cards and projects, or leave them unassigned.
4. Click **Deactivate**.

Deactivated members are signed out within a minute, can't sign in to this workspace, and don't use a seat. Their name stays on comments and activity, so history still makes sense. You can reactivate them later from the **Deactivated** tab; reactivation uses a seat again.

## Remove a guest

Remove guests from individual projects with **Share → Remove**, or from the whole workspace with **Members → Guests → ⋯ → Remove from workspace**.

## Deactivated versus deleted

Deactivating only affects your workspace. The person's Northdeck account still exists and can be used in other workspaces. Only the person can delete their own account, except that Enterprise admins can delete accounts on their verified domains.

## What about billing?

On monthly plans the seat is freed at once, and you get a prorated credit on the next invoice. On annual plans the seat stays paid until renewal, and you can give it to someone else in the meantime. See "How seats and prorated charges work".

## SSO and SCIM

If your workspace uses SCIM, deactivate people in your identity provider instead; Northdeck deactivates them automatically, usually within 40 minutes. If you deactivate someone in Northdeck by hand, SCIM may reactivate them at the next sync.

## If this doesn't help

If a deactivated person can still see content, check whether they also have a guest account under a personal email address. If the seat count on your invoice doesn't go down, contact billing@northdeck.io.
""")

_article("transfer-workspace-ownership", "Transfer workspace ownership", "account_admin",
         ["owner", "ownership", "admin"], """
Every Northdeck workspace has one Owner. The Owner can hand ownership to an Admin, for example before leaving the company.

## Transfer ownership

1. Make sure the new Owner is an **Admin** in the workspace. If not, change their role first in **Workspace settings → Members**.
2. Go to **Workspace settings → General → Ownership** and click **Transfer ownership**.
3. Choose the new Owner and enter your password (or confirm with SSO).
4. The new Owner gets an email and must click **Accept ownership** within 7 days.

Once they accept, you become an Admin. The new Owner can then change your role or deactivate you.

## What moves to the new Owner

- Billing: the subscription, payment method and invoices stay with the workspace. The new Owner becomes the billing contact unless a Billing admin is set.
- Security settings, SSO and the audit log.
- The right to delete the workspace.

Personal items don't move: your private drafts, personal access tokens, and integrations you connected under your own account. Reconnect shared integrations with another admin account before you leave (see "Fix a disconnected integration").

## The Owner has left the company

If the Owner can no longer sign in, an Admin can ask us to transfer ownership. Because this gives full control of the workspace, we check the request carefully:

1. Email support from an Admin account with a verified company email address.
2. Include a letter on company letterhead, or an email from your company's domain administrator, confirming the change.
3. On paid plans, include the last four digits of the card on file or the latest invoice number.

Our account security team reviews requests within 3 business days. We contact the current Owner first and wait 72 hours for any objection.

## If this doesn't help

If you're the only Admin and the Owner's account was deleted, contact support and we'll explain what proof we need for your situation.
""")

_article("change-account-email", "Change the email address on your account", "account_admin",
         ["email", "account", "profile", "domain"], """
You can change the email address you use to sign in to Northdeck. Your workspaces, projects and history stay the same.

## Change your email

1. Click your avatar → **Profile & preferences → Account**.
2. Under **Email address**, click **Change**.
3. Enter the new address and your current password.
4. Open the verification email sent to the new address and click **Confirm new email**. The link expires after 24 hours.

Until you confirm, your old address stays active. We also send a notice to the old address, so you'll know if someone else tried this.

## If you use Google, Microsoft or SSO to sign in

- **Google or Microsoft sign-in**: after changing your email, connect the Google or Microsoft account that matches the new address under **Password & security → Sign-in methods**.
- **SAML SSO**: your email is managed by your company. An admin changes it in your identity provider, and Northdeck updates it at your next sign-in. That's why you may see **"This email is managed by your organization"**.

## Company domain changes

If your whole company changed its email domain, for example after a rebrand, an Owner on Business or Enterprise can update everyone at once with **Workspace settings → Security → Domains → Migrate domain**. Verify the new domain first. Members keep their accounts and history.

## The new address already has an account

If the new address already belongs to another Northdeck account, you'll see **"This email is already in use"**. Either delete the other account (if it's empty) or change its email first. We can't merge two accounts.

## If you can't access your old email

If you can still sign in, change the address normally; the verification goes to the new address. If you can't sign in and can't receive email at the old address, contact support. We'll need to verify your identity, and a workspace Admin may need to confirm the change.

## If this doesn't help

Contact support with both the old and the new address.
""")

_article("scim-user-provisioning", "Provision users with SCIM", "account_admin",
         ["scim", "provisioning", "okta", "entra-id"], """
With SCIM, your identity provider creates, updates and deactivates Northdeck accounts automatically. SCIM provisioning is included on the **Enterprise** plan and works with Okta, Microsoft Entra ID, OneLogin, JumpCloud and other SCIM 2.0 providers.

## Before you start

- SAML single sign-on must already be set up and tested.
- You need to be the workspace Owner or an Admin.

## Turn on SCIM

1. Go to **Workspace settings → Security → User provisioning (SCIM)** and click **Generate token**.
2. Copy the **SCIM base URL** (`https://api.northdeck.io/scim/v2`) and the token. The token is shown only once.
3. In your identity provider, open the Northdeck app, go to its provisioning settings, and paste the URL and token.
4. Turn on **Create users**, **Update user attributes** and **Deactivate users**.
5. Assign people or groups. They're created in Northdeck at the next sync.

## What SCIM controls

- **Creating users**: people get a Northdeck account and a welcome email.
- **Updating**: name, email and job title follow the identity provider.
- **Deactivating**: unassigning or suspending someone in the identity provider deactivates them in Northdeck and frees their seat.
- **Groups**: pushed groups become Northdeck teams. Their membership is managed by SCIM and can't be edited in Northdeck.

Sync timing depends on the provider: Entra ID syncs about every 40 minutes, Okta almost immediately.

## Common errors

- **"409 Conflict: user already exists"**: the person already has a Northdeck account that isn't linked. Turn on **Match existing accounts by email** in Northdeck's SCIM settings.
- **"401 Unauthorized"**: the token was regenerated or revoked. Paste the new token into your identity provider.
- **People created without the right spaces**: map groups to spaces in **SCIM → Group mapping**.

## If this doesn't help

Send support the provisioning log entry from your identity provider, including the time and the person's email address.
""")

_article("delete-workspace-or-account", "Delete a workspace or your account", "account_admin",
         ["delete", "workspace", "account", "close"], """
Deleting a workspace permanently removes all its projects, docs and files, and everyone's access to it. Only the workspace **Owner** can do this. If you only want to stop paying, cancel the subscription instead; your data stays available on the Free plan.

## Before you delete

- **Export anything you need.** See "Export your entire workspace", or export projects one by one to CSV.
- **Cancel the subscription.** Paid workspaces must be cancelled first, and deletion isn't possible while an invoice is unpaid.
- **Tell your team.** Members get an email when the workspace is deleted, but nothing before.

## Delete the workspace

1. Go to **Workspace settings → General** and scroll to **Danger zone**.
2. Click **Delete workspace**.
3. Type the workspace name to confirm, and enter your password.
4. Click **Delete permanently**.

The workspace closes straight away and is **permanently deleted after 14 days**. During those 14 days, the Owner can cancel the deletion using the link in the confirmation email. After that, support can't restore it.

## Delete your personal account

Deleting your account is different from deleting a workspace. Go to **Profile & preferences → Account → Delete account**. You can't delete your account while you own a workspace; transfer ownership or delete the workspace first. Cards and comments you created stay in other people's workspaces, shown as "Deleted user".

## Leave a workspace

To stop being part of someone else's workspace, go to **Workspace settings → General → Leave workspace**. The Owner can't leave without transferring ownership first.

## If this doesn't help

If **Delete workspace** is greyed out, read the message next to it; it says what's blocking deletion, such as an active subscription. For deletions requested for legal or privacy reasons, see "Data access and deletion requests (GDPR)".
""")

# --- bugs -------------------------------------------------------------------

_article("how-to-report-a-bug", "How to report a bug", "bugs",
         ["bugs", "har", "console", "diagnostics"], """
If something in Northdeck isn't working as it should, a good bug report helps us fix it much faster. Here's what to include and how to collect it.

## Report from inside the app

Click **?** in the bottom left and choose **Report a problem**. Describe what happened and click **Send**. The report automatically includes your browser, app version, workspace, the page you were on, and recent error messages. In the mobile apps, shake your phone or go to **Account → Help → Report a problem**.

## What to include

1. **What you did**, step by step, starting from a page we can open (include the URL).
2. **What you expected** to happen.
3. **What actually happened**, with the exact error message or code.
4. **How often** it happens, and whether it happens to other people.
5. A **screenshot or screen recording**, if you can.

## Collect a HAR file

A HAR file records the network requests a page made. It's the most useful thing for problems like "nothing happens when I click Save".

1. Open the page where the problem happens.
2. Press **F12** (or **Cmd+Option+I** on a Mac) and open the **Network** tab.
3. Tick **Preserve log**, then reproduce the problem.
4. Right-click in the list of requests and choose **Save all as HAR**.

HAR files can contain session cookies. Attach them only to a support ticket, never in public places, and sign out afterwards to end the session.

## Console errors

In the same developer tools, open **Console**, reproduce the problem, and take a screenshot of any red messages.

## What happens next

Support checks whether it's a known issue. Confirmed bugs go to our engineering team with your details, and we update the ticket when there's a fix or a workaround. Known issues are listed at **status.northdeck.io/known-issues**.

## If this doesn't help

If the problem is causing data loss or blocking your whole team, say so at the top of the ticket. We prioritize those reports.
""")

_article("drag-and-drop-not-working", "Drag and drop isn't working on a board", "bugs",
         ["boards", "drag-and-drop", "browser"], """
If you can't drag cards between lists, reorder cards, or move lists on a board, one of these is usually the reason.

## The board is sorted

Manual ordering is turned off while a board is sorted by a field. You'll see **"Sorted by Due date. Drag and drop is off."** at the top. Click **Sort → Manual** to turn dragging back on. Cards can still be moved to other lists while sorted, but not reordered within a list.

## You can't edit the project

People with **Can comment** or **Can view** access can't move cards. Check your access in the project's **Share** panel.

## Browser zoom or display scaling

Dragging can misbehave when browser zoom isn't 100%, or on displays with fractional scaling (for example 125%). Press **Ctrl+0** (or **Cmd+0**) to reset the zoom and try again.

## Extensions

Extensions that add elements to pages, such as grammar checkers, password managers and page translators, can capture the mouse while you drag. Try a private window. If dragging works there, turn extensions off one at a time to find the cause.

## Touch screens and tablets

On touch devices, press and hold a card for half a second before dragging. On Windows laptops with touch screens, a known browser issue can stop mouse dragging after you've touched the screen; reload the page to fix it.

## Safari

In Safari 16 and earlier, dropping a card onto a collapsed list doesn't work. Expand the list first, or update Safari.

## Move cards without dragging

Open the card and use **Move** (or press **M**) to choose a list, a position or another project. To move many cards, select them with **Shift+click** and use **Move** in the toolbar.

## If this doesn't help

Report the problem with **? → Report a problem**, and tell us your browser, its zoom level, and whether dragging works in a private window. A short screen recording helps a lot.
""")

_article("changes-not-saving", "Fix \"Couldn't save your changes\" errors", "bugs",
         ["saving", "errors", "data-loss", "sync"], """
Northdeck saves changes automatically. If a change can't be saved, you'll see a red banner, **"Couldn't save your changes"**, with a code. Here's what each code means.

## Error codes

- **SAVE-409 (conflict)**: someone else changed the same card or doc at the same moment. Northdeck keeps both versions: click **View conflict** to choose which to keep. Nothing is lost.
- **SAVE-401 (signed out)**: your session ended. Copy any unsaved text, sign in again in a new tab, then paste it back.
- **SAVE-403 (no permission)**: your access to the project was changed while you were editing.
- **SAVE-0 (offline)**: your connection dropped. Changes are kept in the browser and retried for up to 10 minutes. Don't close the tab until the banner clears.
- **SAVE-500**: an error on our side. Changes are retried automatically. If it keeps happening, check status.northdeck.io.

## Keep your work safe

While the banner is showing, don't reload the page or close the tab; unsaved changes exist only in that tab. Select and copy any long text you've typed before you try anything else.

## It happens repeatedly

1. Check your connection. Wi-Fi that drops for a second or two is enough to cause SAVE-0.
2. Check whether a VPN or proxy is closing connections. See "Network and firewall requirements".
3. Try another browser or a private window to rule out extensions.
4. For docs longer than 200 pages, or cards with very long descriptions, split the content. Very large documents take longer to save.

## Changes disappeared after saving

If a change was saved (no banner) and later disappeared, open the card's **Activity** tab or the doc's **Version history**. Someone may have changed it back, or an automation rule may have overwritten it.

## If this doesn't help

If you lost work, contact support as soon as possible with the card or doc URL and the time, and mark the ticket as data loss. Attach a HAR file if you can reproduce the error (see "How to report a bug").
""")

_article("due-dates-off-by-one-day", "Due dates show a day early or late", "bugs",
         ["due-dates", "time-zones", "calendar"], """
If due dates show one day earlier or later than the date you set, or different people see different dates, it's almost always a time zone difference.

## How Northdeck stores dates

- A **date without a time** (for example "June 12") is the same date for everyone, wherever they are.
- A **date with a time** (for example "June 12, 17:00") is a fixed moment. Someone in another time zone sees it in their local time, which can be a different day.

So if someone in New York sets a due time of 22:00, a teammate in Berlin sees 04:00 the next day.

## Check your time zone

1. Go to **Profile & preferences → Preferences → Time zone**.
2. Turn on **Set automatically**, or choose your time zone.
3. Reload the page.

If your profile time zone differs from your computer's, Northdeck uses the profile setting and shows a banner about the mismatch.

## Common cases

- **Imported dates are off by one day**: the CSV had dates with times at midnight UTC. Re-import with plain dates (`YYYY-MM-DD`), or set the importer's **Time zone** option.
- **The calendar feed shows the wrong day**: all-day events depend on the calendar app's time zone. Check that it matches your profile.
- **API dates**: send date-only fields as `YYYY-MM-DD`. Timestamps without a time zone are treated as UTC.
- **Due reminders come at the wrong time**: reminders use the time zone of the person being reminded, not of the person who set the date.

## Switch a card to date only

Open the due date, click **Remove time** and save. The card then shows the same date for everyone.

## If this doesn't help

If dates are wrong even though everyone has the right time zone, it may be a bug. Report it with the card URL, the date each person sees, and their time zones.
""")

_article("attachment-previews-not-loading", "Attachment previews don't load", "bugs",
         ["attachments", "previews", "files", "browser"], """
Northdeck shows previews for images, PDFs, videos, Office files and Google files attached to cards. If previews show a grey box, spin forever, or say **"Preview unavailable"**, try the following.

## Files that can't be previewed

- Files over **50 MB** aren't previewed; download them instead.
- Password-protected PDFs and Office files.
- Uncommon formats, such as `.psd`, `.sketch` and `.dwg`, show an icon only.
- Previews of new uploads take up to a minute to generate, and large PDFs take longer.

## Previews don't load at all

1. **Check that your network allows our file domain.** Previews load from `files.northdeck-cdn.net`. Corporate firewalls that block it show an empty grey box. See "Network and firewall requirements".
2. **Turn off content blockers** for app.northdeck.io. Some treat our preview frames as ads.
3. **Allow third-party cookies** for Google Drive, OneDrive and Dropbox previews. Without them, linked files show "Preview unavailable" but still open in a new tab.
4. **Hard refresh** the page with **Ctrl+Shift+R** or **Cmd+Shift+R**.

## Images look blurry

Card covers and thumbnails are smaller copies of the image. Click the image to open the full-size version, or download it.

## Previews in the mobile app

The mobile apps preview images, PDFs and videos; Office files open in the phone's default app. On a slow connection, tap **Load preview**. Previews are turned off on mobile data when **Account → Settings → Data saver** is on.

## Downloads work but previews don't

This usually means a browser extension or security tool is blocking embedded content. Try a private window; if previews work there, an extension is the cause.

## If this doesn't help

Send support the card URL, the file type and size, and a screenshot of the browser console (**F12 → Console**) while the preview is loading.
""")

_article("paste-formatting-in-docs", "Formatting is lost or messy when pasting", "bugs",
         ["editor", "docs", "paste", "formatting"], """
When you paste content into a Northdeck doc or card description, we keep the formatting Northdeck supports and drop the rest. Sometimes that gives unexpected results. Here's how to get clean pastes.

## Supported formatting

Headings (three levels), bold, italic, underline, strikethrough, inline code, links, bulleted, numbered and checklist items, quotes, code blocks, tables, images and dividers. Text colors, fonts, font sizes and page layout aren't kept.

## Paste as plain text

Press **Ctrl+Shift+V** (Windows, Linux) or **Cmd+Shift+V** (Mac) to paste without any formatting. It's the quickest fix when pasted text brings odd spacing or styles with it.

## Pasting from common sources

- **Word and Google Docs**: headings, lists and tables come across. Tracked changes and comments don't; accept or remove them first, or you may get both versions of the text.
- **Spreadsheets**: a copied range becomes a table, up to 50 columns and 500 rows. Larger ranges paste as plain text.
- **Web pages**: hidden elements, such as cookie banners, can be pasted too. Paste as plain text if that happens.
- **Email**: signatures and quoted replies often contain layout tables. Paste as plain text.

## Images in pasted content

Images pasted from the web are copied into Northdeck, so they keep working if the original page changes. Images from Word paste only if they're stored in the document, not linked. Each image counts towards your storage.

## Lists with wrong numbering

Numbered lists from Word sometimes restart at 1 or nest incorrectly. Select the list and press **Ctrl+Shift+7** (Cmd+Shift+7) twice to rebuild it.

## Undo a bad paste

Press **Ctrl+Z** (Cmd+Z) right after pasting. Older versions of a doc are available in **⋯ → Version history**.

## If this doesn't help

If pasting makes text disappear, freezes the page, or breaks the layout of the whole doc, report it with **? → Report a problem** and include the source app and a sample of the content.
""")

_article("automation-rules-not-running", "Automation rules aren't running", "bugs",
         ["automation", "rules", "limits"], """
Automation rules do routine work for you, like moving a card when its checklist is done or assigning new cards. If a rule doesn't run, check the following.

## Check the rule's history

Open the project, click **Automations**, open the rule and click **Run history**. Each run shows whether it succeeded, failed (with a reason), or was skipped.

## Common reasons rules don't run

- **The monthly run limit was reached.** Free workspaces get 100 runs a month, Team 1,000, Business 10,000 and Enterprise 100,000. When the limit is reached, rules stop until the next month and the Owner gets an email. See usage in **Workspace settings → Billing → Usage**.
- **The rule was paused after errors.** A rule that fails 5 times in a row is paused automatically, for example if it points to a list that was deleted. Fix the rule and click **Resume**.
- **The change was made by another rule.** To prevent loops, rules don't trigger on changes made by other rules, unless **Allow other rules to trigger this rule** is on (Business and Enterprise).
- **The change came from an import.** Imported cards don't trigger rules. Changes from the API, forms and integrations do.
- **The trigger doesn't match.** For example, "When a card is moved to Done" doesn't run for cards created directly in Done.
- **The rule's owner was deactivated.** Rules run as the person who created them. Reassign the rule with **Automations → ⋯ → Change owner**.

## Rules that run late

Most rules run within a few seconds. Scheduled rules (such as "Every Monday at 9:00") run within 15 minutes of the set time, in the time zone of the rule's owner.

## Test a rule

Click **Test rule** and choose a card. The rule runs once on that card, and the result appears in **Run history** marked "Test". Test runs don't count towards your limit.

## If this doesn't help

If **Run history** says a rule ran successfully but nothing changed on the card, report it with the rule name and the card URL. Our engineers can check the run in detail.
""")

# --- security_privacy -------------------------------------------------------

_article("two-step-verification", "Turn on two-step verification", "security_privacy",
         ["2fa", "mfa", "security", "passkeys"], """
Two-step verification (2FA) adds a second check when you sign in with a password: a code from an authenticator app, or a security key. It protects your account even if your password is stolen.

## Turn on two-step verification

1. Go to your avatar → **Profile & preferences → Password & security → Two-step verification**.
2. Click **Set up** and choose a method:
   - **Authenticator app**: scan the QR code with any authenticator app, then enter the 6-digit code it shows.
   - **Security key or passkey**: follow your browser's prompt to use a hardware key, fingerprint, face recognition or device PIN.
3. Save your **10 recovery codes** somewhere safe, such as a password manager. Each code works once.
4. Click **Turn on**.

You can add several methods, and we recommend at least one backup.

## Require 2FA for everyone

On Business and Enterprise, Owners and Admins can require 2FA in **Workspace settings → Security → Two-step verification → Require for all members**. People without 2FA are asked to set it up the next time they sign in, and can't access the workspace until they do. Guests can be included or excluded.

If your workspace uses SAML SSO, 2FA is handled by your identity provider, and this setting doesn't apply to SSO sign-ins.

## Codes don't work

Authenticator codes depend on your phone's clock. If codes are rejected with **"That code didn't work (AUTH-2FA-01)"**, set your phone's date and time to automatic, then try a fresh code. Codes change every 30 seconds, so enter the code before it changes.

## If this doesn't help

If you've lost your phone or security key, see "Lost access to your two-step verification device". Don't turn off 2FA to work around a problem; contact support instead.
""")

_article("lost-2fa-device", "Lost access to your two-step verification device", "security_privacy",
         ["2fa", "recovery-codes", "account-recovery"], """
If you've lost, reset or replaced the phone or security key you use for two-step verification (2FA), you can still get into your account.

## Use a recovery code

1. Sign in with your email and password.
2. On the verification screen, click **Use a recovery code**.
3. Enter one of the 10 codes you saved when you set up 2FA. Each code works once.
4. Once you're in, go to **Profile & preferences → Password & security → Two-step verification**, remove the lost device, and set up the new one.
5. Click **Generate new recovery codes** and save them. This cancels the old ones.

## Moving to a new phone

If your authenticator app supports backup or transfer, move your accounts to the new phone before you reset the old one. If you've already reset it, use a recovery code as above.

## No recovery codes

Without recovery codes, we need to verify your identity before turning off 2FA. This is deliberately slow, to protect you from account takeover:

- **If your workspace is on Business or Enterprise**, ask the workspace Owner or an Admin to go to **Workspace settings → Members**, open your profile and click **Reset two-step verification**. You'll be asked to set it up again at your next sign-in.
- **Otherwise**, contact support from the email address on the account. We'll ask you to confirm details about your account, and there's a 48-hour waiting period during which we email you, so you can cancel the request if it wasn't you.

Support never turns off 2FA based on a phone call or a chat alone.

## Prevent this next time

Add a second method, such as a security key or passkey, and keep your recovery codes in a password manager.

## If this doesn't help

If you think someone else changed your 2FA settings, report it as described in "Report suspicious activity or a vulnerability". We'll lock the account while we investigate.
""")

_article("audit-log", "Use the audit log", "security_privacy",
         ["audit-log", "security", "compliance", "siem"], """
The audit log records important actions in your workspace: who signed in, who changed settings, who exported data, and more. It's available to Owners and Admins on the **Business** and **Enterprise** plans.

## Open the audit log

Go to **Workspace settings → Audit log**. Events are listed newest first. Filter by:

- **Person**: the member or API token that performed the action.
- **Event type**: for example `member.invited`, `member.role_changed`, `sso.sign_in_failed`, `project.exported`, `project.deleted` or `token.created`.
- **Date range**.
- **IP address**.

Click an event to see its details, such as the old and new values of a setting, the IP address and the device.

## What's recorded

Sign-ins and failed sign-ins, changes to members and roles, security and SSO settings, integrations, API tokens, project sharing and deletion, and exports. Ordinary card edits aren't audit events; they're in each project's **Activity** tab.

## How long events are kept

- **Business**: 1 year.
- **Enterprise**: unlimited, or a period you set in **Security → Data retention**.

## Export and stream

- Click **Export CSV** to download the filtered events (up to 100,000 rows per file).
- Enterprise workspaces can stream events to a SIEM with the API (`GET /v2/audit-events`) or with a webhook for the `audit.event` type.

## Investigating something

To find out who deleted a project, filter by **Event type → project.deleted**. To see everything one person did, filter by **Person** and set a date range. The log shows times in your profile time zone; exports use UTC.

## If this doesn't help

If an event you expected isn't in the log, check that it's one of the recorded event types above. If you believe the log is incomplete during a security investigation, contact support and mark the ticket as a security issue.
""")

_article("gdpr-data-requests", "Data access and deletion requests (GDPR)", "security_privacy",
         ["gdpr", "privacy", "dpa", "data-subject-requests"], """
Northdeck supports your obligations under the GDPR, the UK GDPR and similar privacy laws. This article explains how to sign a data processing agreement and how to handle requests from people whose data is in your workspace.

## Data processing agreement (DPA)

Owners can accept our DPA online in **Workspace settings → Legal → Data processing agreement**. It includes the EU Standard Contractual Clauses and the UK addendum, and the signed copy can be downloaded as a PDF from the same page. Enterprise customers who need changes to the DPA can ask their account manager.

The current list of sub-processors is on the same page. Click **Notify me of changes** to get an email 30 days before a new sub-processor is added.

## Requests about your own account

- **Get a copy of your personal data**: **Profile & preferences → Account → Download my data**. We email you a ZIP within 48 hours.
- **Delete your account**: see "Delete a workspace or your account".
- **Correct your data**: update your name and email in your profile.

## Requests from people in your workspace

If someone asks your organization for access to, or deletion of, their data, your organization is the controller and handles the request:

1. **Access**: use the audit log and search to find their content, or export the relevant projects.
2. **Deletion**: deactivate the person, then go to **Workspace settings → Members → Deactivated → ⋯ → Anonymize**. This replaces their name and email with "Former member" across all content. It can't be undone.

## Requests sent to Northdeck directly

Email **privacy@northdeck.io**. If the request concerns data in a customer's workspace, we pass it to that workspace's Owner, as the law requires. We respond within 30 days.

## If this doesn't help

For questions about our security measures, see "Data retention and where your data is stored", or ask your account manager for our security documentation pack.
""")

_article("ip-allowlist-and-session-policies", "IP allowlisting and session policies", "security_privacy",
         ["ip-allowlist", "sessions", "enterprise", "security"], """
Enterprise workspaces can restrict where people sign in from and how long they stay signed in. These controls are in **Workspace settings → Security** and can only be changed by the Owner or Admins.

## IP allowlist

1. Go to **Security → IP allowlist** and click **Add range**.
2. Enter an IP address or CIDR range, such as `203.0.113.0/24`, and a label like "London office". You can add up to 50 ranges.
3. Check the warning: the list must include your current IP address, or you'll be signed out.
4. Turn on **Enforce allowlist**.

The allowlist applies to the web app, the desktop and mobile apps, and API tokens. People outside the listed ranges see **"Access from this network isn't allowed by your workspace (AUTH-403)"**.

Options:

- **Allow guests from any network**: useful when you work with clients.
- **Exempt API tokens**: for integrations running in the cloud without fixed IPs. Where possible, add the integration's published IP ranges instead.

The Owner can always sign in from any network, so the workspace can't be locked completely.

## Session policy

In **Security → Session policy**, you can set:

- **Session length**: from 1 to 720 hours (the default is 720 hours, which is 30 days).
- **Idle timeout**: sign people out after 15 minutes to 24 hours of inactivity.
- **Re-authenticate for sensitive actions**: ask for the password or SSO again before exporting data or changing security settings.

New policies apply at each person's next sign-in. To apply one at once, click **Sign out all members**.

## Device restrictions

You can block the desktop or mobile apps, or allow the mobile apps only on managed devices, using the app configuration key `northdeck.managedDevice=true` in your MDM.

## If this doesn't help

If people are blocked even though they're on an allowed network, check whether their traffic leaves through a different IP, for example a cloud proxy or IPv6. Blocked attempts, with the IP used, appear in the audit log as `auth.ip_blocked`.
""")

_article("report-suspicious-activity", "Report suspicious activity or a vulnerability", "security_privacy",
         ["security", "phishing", "compromised-account", "vulnerability"], """
If you think someone has access to your Northdeck account, you've received a suspicious email that claims to be from us, or you've found a security vulnerability, tell us right away.

## Your account may be compromised

1. **Reset your password** straight away, even if you're still signed in. This signs out all other sessions.
2. Check **Profile & preferences → Password & security → Active sessions** and click **Sign out** next to anything you don't recognize.
3. Turn on **two-step verification**.
4. Check **Personal access tokens** and **Connected accounts** for anything you didn't create, and revoke it.
5. Contact support with the topic **Account security**. Include when you noticed the problem and what you saw.

Admins on Business and Enterprise can check the audit log for sign-ins from unusual IP addresses.

## Phishing emails

Real Northdeck emails come only from **@northdeck.io** and **@mail.northdeck.io** addresses, and their links go to **northdeck.io** domains. We never ask for your password, 2FA codes or card details by email.

If you get a suspicious email:

- Don't click links or open attachments.
- Forward it as an attachment to **security@northdeck.io**.
- If you entered your password on a fake page, follow the steps under "Your account may be compromised".

## Report a vulnerability

Email **security@northdeck.io** with a description, steps to reproduce, and the impact. Please don't access other customers' data, run automated scans that degrade the service, or disclose the issue publicly before we've fixed it. We reply within 2 business days and keep you updated until it's resolved.

## Suspicious activity in your workspace

If a member seems to be exporting or deleting data they shouldn't, the Owner or an Admin can deactivate the account immediately and then review the audit log.

## If this doesn't help

For urgent security incidents affecting a whole workspace, Enterprise customers can also call the security hotline listed in their contract.
""")

_article("data-storage-and-retention", "Data retention and where your data is stored", "security_privacy",
         ["data-residency", "retention", "encryption", "compliance"], """
This article explains where Northdeck stores your data, how long we keep it, and what Enterprise admins can configure.

## Where data is stored

Northdeck stores workspace data in one of two regions:

- **United States** (default): data centers in Virginia and Oregon.
- **European Union**: Frankfurt, with backups in Ireland. Available on the **Enterprise** plan.

The region is chosen when the workspace is created and is shown under **Workspace settings → Security → Data region**. Moving an existing Enterprise workspace between these regions is possible once a year and is arranged by our team; it usually involves a planned maintenance window of a few hours.

Some services, such as email delivery and error monitoring, process limited data outside your region. They're listed as sub-processors in **Workspace settings → Legal**.

## Encryption

Data is encrypted in transit with TLS 1.2 or newer, and at rest with AES-256. Enterprise workspaces can bring their own encryption keys.

## How long we keep data

- **Active content**: as long as the workspace exists.
- **Trash**: 30 days, then permanently deleted.
- **Deleted workspaces**: 14 days, then permanently deleted.
- **Backups**: 35 days. Deleted data disappears from backups after that.
- **Audit log**: 1 year on Business, configurable on Enterprise.

## Retention policies (Enterprise)

In **Security → Data retention**, Enterprise admins can:

- automatically delete cards and comments older than a set age, per space;
- extend the trash to up to 365 days;
- place a legal hold on spaces or people, which stops all deletion, including by retention policies, until the hold is removed.

## If this doesn't help

For security questionnaires or certifications (SOC 2 Type II and ISO 27001), ask your account manager or request our security pack from security@northdeck.io.
""")


# ---------------------------------------------------------------------------
# Ticket problem templates
# ---------------------------------------------------------------------------
# Each KB article gets several distinct customer problems. A problem carries a
# definite support tier that follows from what it needs:
#
# * L1 - a KB article or standard procedure resolves it: how-to questions,
#   settings, documented error codes with a known fix, password resets, plan
#   and invoice questions.
# * L2 - it needs a specialist, engineering or a privileged action: confirmed
#   bugs, outages, data loss, security incidents, refund disputes, API 5xx
#   errors, SSO/SAML problems that need debugging with the customer's IdP
#   admin, contract or legal requests.
#
# L2 texts carry the visible reason (error codes, "since the update", "all
# users affected", "data is gone", "charged twice", "security"...), L1 texts
# read as how-to or can't-find-it questions. ``kb`` is, for L2 problems only,
# the chance that the article still helped enough to be linked to the ticket
# (an L2 bug or outage is usually fixed by engineering without an article).
# Each problem also lists the plans it plausibly happens on, candidate
# subjects and bodies (with {slot} fillers), and optionally incident dates
# that cluster tickets.

Problem = namedtuple("Problem", "tier subjects bodies plans incidents kb")

L1, L2 = "L1", "L2"
KB_PARTIAL = 0.1  # default chance an L2 ticket keeps an article that only partly helped


def P(tier, subjects, bodies, plans="ftbe", incidents=(), kb=None):
    if tier not in (L1, L2):
        raise ValueError(f"unknown tier {tier!r}")
    if kb is None:
        kb = 1.0 if tier == L1 else KB_PARTIAL
    return Problem(tier, subjects, bodies, plans, tuple(incidents), kb)


OUTAGE_DAYS = ("2026-06-09", "2026-10-14")

PROBLEMS: dict[str, list[Problem]] = {
    # --- login_sso -----------------------------------------------------------
    "reset-password": [
        P(L1, ["Password reset email not arriving", "No reset email", "forgot password - email never comes",
               "Reset link never arrives"],
          ["I clicked Forgot password on the login page {n} times and the reset email never shows up at {email}. Nothing in spam either.",
           "Trying to reset my password since this morning. The page says a link was sent but my inbox is empty. Where else should I look?",
           "I forgot my password and the reset mail doesn't come. Is it maybe going to an old address? I might have signed up with my personal email years ago."]),
        P(L1, ["Reset link says expired", "Password reset link invalid", "link expired??"],
          ["The reset link in the email says \"This link has expired or was already used\". I requested it {mins} minutes ago. I did click the button a couple of times, not sure if that matters.",
           "Every time I open the password reset link I get 'link expired'. Tried twice now, on {browser}. How do I get a working one?"]),
        P(L1, ["How do I change my password", "change password?", "Password rotation"],
          ["How can I change my password? I know my current one, but our security policy says we must rotate it every 90 days and I can't find the option.",
           "Where is the change password setting? I looked everywhere under Workspace settings and there's nothing."]),
    ],
    "sign-in-with-google-or-microsoft": [
        P(L1, ["All my projects are gone after logging in with Google", "Empty workspace after Google sign in",
               "where did my boards go??", "Logged in with Microsoft, everything missing"],
          ["I used 'Continue with Google' today instead of my password and now I'm in a completely empty account. My Google account is {first}.{last}@gmail.com but I normally use {email}. Which one should I use?",
           "Logged in with Microsoft and Northdeck says I have no workspaces and asks me to create one. Yesterday I used my password and everything was there. What did I do wrong?",
           "After signing in with Google I only see a 'Create your first project' screen. My team says the workspace is fine for them."]),
        P(L1, ["\"This app is blocked by your administrator\"", "Google login blocked", "Microsoft sign in needs admin approval"],
          ["When I click Continue with Google I get 'This app is blocked by your administrator'. I'm not sure who our admin is, we're {company}.",
           "Sign in with Microsoft shows 'Need admin approval'. I'm the only IT person here, what exactly do I need to approve in Microsoft 365?"]),
        P(L1, ["Switch to Google login", "use google login instead of password", "Link Microsoft account"],
          ["I have had a password login for years. Can I switch to signing in with Google without losing anything?",
           "Can I connect my Microsoft work account to my existing Northdeck login so I don't need another password?"]),
    ],
    "sso-okta-setup": [
        P(L1, ["Setting up Okta SAML", "Okta SSO configuration help", "Where do I find the ACS URL?"],
          ["We're on {plan_name} and want to set up SSO with Okta. Where do I find the ACS URL and entity ID on the Northdeck side? I can't see a Single sign-on page.",
           "Our IT team is configuring Okta for Northdeck. Is there a catalog app or do we create a custom SAML app? What Name ID format do you need?"],
          plans="be"),
        P(L2, ["Okta SAML test fails with no error code - need engineering", "Okta SSO broken, please check your SAML logs",
               "Escalation: Okta SSO test connection fails"],
          ["We followed the Okta guide step by step, pasted the metadata URL, and Test connection still fails with no error code. Our Okta admin captured the SAML response and it looks valid to him. Can your engineers check the assertion in your logs? Nobody at {domain} can switch to SSO until this works.",
           "After configuring Okta, Test connection sends me to Okta, I sign in, then it comes back with a generic error page and no SSO code. Our IdP admin has been debugging this for two days with the SAML tracer. Please escalate to someone who can see the SAML request on your side."],
          plans="be", kb=0.2),
        P(L1, ["Require SSO for everyone", "Force Okta login for all users", "Turn off password login"],
          ["Okta SSO works for me now. How do I force all {seats} members to use it and stop password logins? And what happens to our contractors with gmail addresses?"],
          plans="be"),
    ],
    "sso-entra-id-setup": [
        P(L1, ["Azure AD SSO setup", "Entra ID SAML configuration", "SSO with Microsoft Entra"],
          ["We'd like to connect Northdeck to Azure AD / Entra ID. Which value goes into Reply URL and which claim should be the unique identifier? Some of our users don't have mailboxes.",
           "Setting up SAML with Entra. Is Northdeck in the gallery or do we use non-gallery? The guides I found for other tools are confusing."],
          plans="be"),
        P(L1, ["SSO-105 user not assigned", "Error SSO-105 for new hire", "SSO-105"],
          ["Our new hire {teammate} gets 'SSO-105 User is not assigned to this application' when signing in. Everyone else is fine. Where do I assign her?",
           "A few people from our marketing team get SSO-105. We use Entra groups for assignment, do I need to add the group somewhere?"],
          plans="be"),
        P(L1, ["Entra certificate expiring", "SAML certificate rotation", "SSO cert expires in 30 days"],
          ["We got an email that our SAML signing certificate expires in 30 days. If I rotate it in Entra, do I need to do anything in Northdeck? We set up SSO {n} years ago and the person who did it left."],
          plans="be"),
    ],
    "sso-troubleshooting-errors": [
        P(L2, ["SSO-102 signature could not be verified - all users affected", "Nobody can log in - SSO-102",
               "URGENT SSO broken for whole company"],
          ["Since this morning nobody in {company} can log in. All users get SSO-102 Signature could not be verified. We already re-uploaded the metadata from {idp} and it still fails. We need someone from your side on a call with our IdP admin.",
           "All users getting SSO-102 after our IdP maintenance. The whole company is locked out, we have a client presentation in 2 hours. Please escalate."],
          plans="be", kb=0.25),
        P(L2, ["SSO-103 assertion expired for some users - need log check", "SSO error 103 keeps coming back",
               "Intermittent SSO-103 failures, clocks are fine"],
          ["Some users get SSO-103 Assertion expired, others are fine. Our {idp} admin checked time sync on every server and it's correct. Can your team compare the timestamps in your SAML logs with ours?",
           "Getting SSO-103 intermittently since last week, mostly in the morning. Our IdP admin already debugged clock skew and found nothing. We need your engineers to look at the failed requests."],
          plans="be", kb=0.15),
        P(L1, ["SSO-104 audience mismatch", "Audience mismatch error"],
          ["Error SSO-104 Audience mismatch when testing our {idp} setup. I copied the entity ID, I think. What exactly has to match?",
           "We moved from one {idp} tenant to another and now get SSO-104. Which value do I need to update?"],
          plans="be"),
        P(L1, ["SSO login loops", "Login keeps redirecting back", "infinite redirect on sso"],
          ["When I sign in with SSO it goes to {idp}, then back to the Northdeck login page, then again, forever. No error. Using {browser}.",
           "SSO redirect loop for me only, colleagues are fine. I cleared the cache already, is there a browser setting I should check?"],
          plans="be"),
        P(L1, ["SSO-101 no account", "New users can't log in via SSO", "SSO-101 for new employees"],
          ["New people we add in {idp} get SSO-101 'No Northdeck account for this email'. Do I really have to invite every person manually first?"],
          plans="be"),
    ],
    "account-locked-too-many-attempts": [
        P(L1, ["Account locked AUTH-429", "locked out", "Too many sign-in attempts", "Locked out of my account"],
          ["I'm locked out: 'Too many sign-in attempts. Try again in 30 minutes. (AUTH-429)'. I waited and now it tells me to wait again?",
           "My account got locked after I mistyped my password a few times. How do I unlock it? I have a deadline today."]),
        P(L2, ["Security: someone is trying to break into my account", "Sign-in attempts from {city}, not me",
               "Possible account takeover - unusual sign-in activity"],
          ["I got an 'Unusual sign-in activity' email about attempts from {city} and my account is now locked. I've never been there. This looks like a security incident, someone is trying to break in. Can your security team check where the attempts came from?",
           "Security issue: dozens of failed sign-ins on my account overnight from an IP in {city}, and I'm locked out. I'm worried the account is compromised. Please investigate."],
          kb=0.2),
        P(L1, ["Admin unlock for team member", "Unlock a user's account"],
          ["Can I as workspace admin unlock {teammate}'s account? They're locked out (AUTH-429) and presenting in an hour."]),
    ],
    "logged-out-repeatedly": [
        P(L1, ["Keeps logging me out", "Session expires constantly", "AUTH-440 every day", "Signed out all the time"],
          ["Northdeck logs me out every single day with 'Your session has expired (AUTH-440)'. Very annoying. Using {browser} on {os}. Is there a setting to stay signed in?",
           "I get signed out every time I close {browser}. I have to log in like 5 times a day."]),
        P(L1, ["Logged out every few hours with SSO", "SSO session too short"],
          ["Since we turned on SSO with {idp} people get kicked back to the login page every {hours} hours. Is that a Northdeck setting or ours?"],
          plans="be"),
        P(L1, ["Two accounts in one browser", "Work and personal account logging each other out"],
          ["I have a personal Northdeck account and a work one. Whenever I open one, the other logs out. Is there a way to use both?"]),
    ],

    # --- billing -------------------------------------------------------------
    "change-plan-upgrade-downgrade": [
        P(L1, ["Upgrade to Business", "How to upgrade?", "Upgrade plan question", "Is upgrade prorated?"],
          ["We're on {plan_name} and want to move to Business for SSO and the audit log. Do we pay the full month again or is it prorated? We have {seats} people.",
           "How do I upgrade our workspace? The Change plan button is greyed out for me."],
          plans="ft"),
        P(L1, ["Downgrade plan", "switch back to team plan", "Downgrade to Free"],
          ["We'd like to downgrade from {plan_name} to Free at the end of our period. What happens to our {n} projects and our SSO setup?",
           "How do we downgrade to Team? Budget cuts. Will we lose any data?"],
          plans="tb"),
        P(L1, ["Switch to annual billing", "Monthly to yearly", "Annual discount"],
          ["Can we switch from monthly to annual billing now and get the discount? Do we get a credit for the rest of this month?"],
          plans="tb"),
    ],
    "download-invoices-receipts": [
        P(L1, ["Need invoices", "Where are invoices?", "Receipt request", "Invoice copy please"],
          ["Our finance team needs the invoices for the last {n} months. Where can I download them? I'm the billing contact but I'm not an admin.",
           "Where can I find invoice {invoice}? I can't find it anywhere in the app.",
           "Need a receipt for the {date} payment for my expense report. Where do I get it?"],
          plans="tbe"),
        P(L1, ["Change company name on invoice", "Wrong address on invoice", "Update invoice details"],
          ["Our company changed its name to {company} and the invoices still show the old name. How do I get the last 3 invoices with the new name for our accountant?",
           "The billing address on our invoices is our old office. How do I update it and get corrected invoices for this quarter?"],
          plans="tbe"),
        P(L1, ["Send invoices to accounting automatically", "Add invoice recipient"],
          ["Is it possible to send invoices to accounts@{domain} automatically? Our AP team isn't in Northdeck."],
          plans="tbe"),
    ],
    "update-payment-method": [
        P(L1, ["Update credit card", "Change payment card", "new card on file"],
          ["Our company card changed. How do I update the card on file before the next charge on {date}?",
           "I need to replace the credit card on our account, the old one was cancelled. Where do I do that?"],
          plans="tbe"),
        P(L1, ["Card declined", "Payment declined 3D secure", "card keeps getting declined"],
          ["I keep trying to add our {card_brand} card and it says declined. Tried 4 times. What should I check?",
           "Upgrade fails with 'Your card was declined'. We're in {country}, is that the problem?"]),
        P(L1, ["Pay by bank transfer / PO", "Invoice billing instead of card", "Purchase order on invoice"],
          ["Our procurement needs to pay by bank transfer with a PO number. We're {seats} seats on Business annual. Is that possible and how do I set it up?",
           "How can our PO number appear on the invoices? Finance rejects invoices without it."],
          plans="be"),
    ],
    "failed-payment-past-due": [
        P(L1, ["Payment failed email", "Workspace is read-only", "Why is our workspace read only", "Can't edit anything"],
          ["Everyone is telling me they can't edit anything and there's a banner about payment. How do I fix this?",
           "Got 'Payment failed for your Northdeck workspace'. How long until we lose access? I'm waiting for a new card from the bank."],
          plans="tbe"),
        P(L2, ["Charged twice - refund the duplicate", "Double charge on my card, want a refund", "Duplicate payment, refund please"],
          ["We were charged {amount} twice on {date}. Once when I retried the failed payment and once automatically. We were charged twice and want a refund of the duplicate.",
           "My bank statement shows two charges from NORTHDECK* SUBSCRIPTION this month for the same amount. We were double charged. Refund one of them or we'll dispute it with the bank."],
          plans="tbe"),
        P(L2, ["Paid by wire but invoice still open - please reconcile", "Payment sent, invoice shows unpaid, escalate to billing"],
          ["We paid invoice {invoice} by wire on {date} but it still shows Open and now the workspace has a warning banner. Remittance attached. Your billing team needs to match the payment manually.",
           "Our bank confirms the transfer for invoice {invoice} went out {n} days ago, but your system still shows it unpaid and threatens to lock us. Please have billing reconcile it."],
          plans="be", kb=0.15),
    ],
    "seats-and-prorated-charges": [
        P(L1, ["Why are we billed for more seats", "Invoice seat count question", "How are seats counted"],
          ["Our invoice says {seats} seats but we only have about {n} people on the team. How are seats counted?",
           "The bill went up by {amount} this month. How can I see who added seats?"],
          plans="tbe"),
        P(L1, ["Prorated charge explanation", "What is this prorated charge"],
          ["Can you explain the prorated line on invoice {invoice}? We added 2 people mid-month and the amount looks odd."],
          plans="tbe"),
        P(L1, ["Stop members inviting people", "Limit seats", "Seat limit"],
          ["How do I stop members from inviting people and adding seats without approval? This happened 3 times this month."],
          plans="tbe"),
    ],
    "vat-tax-id": [
        P(L1, ["Add VAT number", "VAT ID on invoice", "Reverse charge VAT"],
          ["We're a company in {country}, how do I add our VAT number to the invoices so VAT is reverse charged?",
           "Where do I enter our VAT ID? I can't find the field in billing settings."],
          plans="tbe"),
        P(L2, ["Refund VAT charged by mistake", "VAT wrongly charged - want it refunded"],
          ["We added our VAT ID last week but the previous {n} invoices included VAT. We want a refund of the VAT you charged and corrected credit notes.",
           "You charged us VAT for months although our tax ID was valid. Please refund the VAT amount, our accountant needs credit notes."],
          plans="tbe"),
        P(L1, ["We couldn't verify this tax ID", "VAT validation fails"],
          ["The tax ID field says 'We couldn't verify this tax ID' but our number is valid, I checked on the official EU site. What format do you expect?"],
          plans="tbe"),
    ],
    "cancel-subscription-refunds": [
        P(L1, ["Cancel subscription", "How do I cancel", "Cancel our plan"],
          ["How do we cancel our subscription? We moved to a different tool. What happens to our data?",
           "How do I cancel? I can't find the button anywhere."],
          plans="tbe"),
        P(L2, ["Refund request - renewal we didn't want", "Disputing annual charge, want a refund", "Charged after cancelling!",
               "I want a refund"],
          ["Our annual plan renewed on {date} for {amount}. We didn't mean to renew; we want a refund, otherwise we will dispute the charge with our bank.",
           "I cancelled last month and was still charged {amount}. I want my money back. This is a billing dispute.",
           "We bought annual by mistake instead of monthly. It's been {n} days. We want a refund of the difference."],
          plans="tbe", kb=0.2),
    ],

    # --- data_export ---------------------------------------------------------
    "export-board-csv": [
        P(L1, ["Export board to Excel", "How to export to CSV", "export tasks to spreadsheet"],
          ["How can I export the {board} board to Excel? My manager wants the tasks in a spreadsheet with due dates and assignees.",
           "Is there a way to export a project to CSV including custom fields?"]),
        P(L1, ["CSV export garbled characters", "Accents broken in export", "Export shows weird symbols"],
          ["When I open the CSV export in Excel all the accented names look like Ã© and the emojis are garbage. Our team is in {country}, we have a lot of special characters. How do I open it correctly?"]),
        P(L1, ["Export failed EXP-413", "Export fails on big project", "Export email never arrives"],
          ["Export of {board} fails every time with 'Export failed (EXP-413)'. It has about {n_big} cards. How do I export it?",
           "Trying to export our biggest project and the export email never arrives. Where should it come from?"]),
        P(L1, ["Export comments too?", "Comments missing from export"],
          ["The CSV export doesn't include comments. We need the comments for an audit. How do we get them?"]),
    ],
    "full-workspace-export": [
        P(L1, ["Full backup of workspace", "Export everything", "Backup all data"],
          ["We need a full backup of our workspace including attachments for compliance. How do we do that?",
           "Is there a way to export all projects at once instead of one by one? We have {n} spaces and a lot of projects."],
          plans="be"),
        P(L1, ["Workspace export stuck", "Export stuck at Preparing", "Export download link expired"],
          ["I started a full workspace export yesterday and it still says Preparing. How long does it usually take?",
           "The download link for our workspace export says Expired, I clicked it today for the first time. How do I get a new one?"],
          plans="be"),
        P(L1, ["Full export not available on our plan", "Can't find workspace export"],
          ["I can't find Full workspace export in Import & export. We're on {plan_name}. Is this not available?"],
          plans="ft"),
    ],
    "import-from-trello-asana": [
        P(L1, ["Import from Trello", "Migrate from Asana", "Moving from Trello"],
          ["We're moving {n} boards from Trello. Will checklists, labels and attachments come over? And what about Power-Ups?",
           "How do we import our Asana projects? Subtasks are important for us."]),
        P(L2, ["Asana import lost data - tasks are gone", "Import finished but hundreds of tasks missing",
               "Trello import corrupted our board, need engineering"],
          ["Our Asana import finished without errors but hundreds of subtasks are missing, and the originals are already deleted on the Asana side, so the data is gone. Import ID attached. We need your engineers to recover it.",
           "We re-ran the Trello import twice as suggested and every time the same {n} lists come over empty. The import report shows success. Something is broken in the importer, please escalate."],
          kb=0.05),
        P(L1, ["Attachments missing after import", "Trello import stopped - Access revoked"],
          ["After importing from Trello, some attachments are missing. They were big video files, around {file_size}. Is there a size limit?",
           "The import from Trello stopped halfway and the report says 'Access revoked'. Now we have a half-imported board. What should I do?"]),
    ],
    "import-csv-spreadsheet": [
        P(L1, ["Import tasks from Excel", "CSV import how to", "Upload spreadsheet as tasks"],
          ["I have a spreadsheet with {n_big} tasks. How do I bring it into a project? Does it have to be CSV?"]),
        P(L1, ["CSV import error 'Could not read this file'", "Row 1 has no Title", "CSV import fails"],
          ["CSV import says 'Could not read this file'. I exported it from Excel on {os}. How should I save it?",
           "Import fails with 'Row 1 has no Title' but my first column is literally called Title."]),
        P(L1, ["Imported dates are wrong", "Due dates shifted after import"],
          ["I imported a CSV and all the due dates are wrong. The spreadsheet has dates like 03/04/2026, not sure if that's March or April in your system."]),
    ],
    "download-attachments-bulk": [
        P(L1, ["Download all attachments", "Bulk download files", "Get all files from project"],
          ["Is there a way to download all files attached in the {board} project at once? Clicking each card is crazy, there are {n_big} files.",
           "Client wants all deliverables. How can I download every attachment in a project as a zip?"]),
        P(L1, ["ZIP download corrupted", "Attachment zip incomplete"],
          ["The ZIP of attachments is corrupted when I try to open it on {os}. It's about {file_size}. What can I try?",
           "The attachment ZIP from {board} seems incomplete. Is there a maximum size for one download?"]),
        P(L1, ["Google Drive files not in ZIP"],
          ["Downloaded all attachments but the Google Drive files aren't in the zip. Only a CSV with links. Is that expected?"]),
    ],
    "restore-deleted-items": [
        P(L1, ["Accidentally deleted a card", "Restore deleted project", "Undo delete"],
          ["I accidentally deleted a whole list with {n} cards in {board}. How do I get it back??",
           "A colleague deleted our {board} project by mistake yesterday. How do we restore it?"]),
        P(L2, ["Data missing - not in trash, data is gone", "Cards disappeared overnight - data loss", "Project vanished, possible data loss"],
          ["Around {n_big} cards disappeared from {board} overnight. They are not in the trash and the activity log shows nothing. The data is gone. Did you lose our data?",
           "A whole project vanished and it's not in the trash, nobody on our side deleted it. This is data loss and we need your engineers to restore it from backups."],
          kb=0.05),
        P(L1, ["Where are archived cards", "Archived cards gone?"],
          ["I archived some cards and now can't find them. Where do archived cards go?"]),
    ],

    # --- integrations --------------------------------------------------------
    "slack-integration": [
        P(L1, ["Connect Slack", "Slack integration setup", "Post updates to Slack channel"],
          ["How do we get project updates posted into our #{channel_name} Slack channel?",
           "We want new cards in {board} to show up in Slack. Where do I set that up?",
           "The Northdeck bot doesn't post in our private channel #{channel_name}, but works in public ones. Do I need to add it somewhere?"]),
        P(L2, ["Slack updates stopped for all channels since {date}", "Nothing posted to Slack since the update",
               "Slack integration broken, shows Connected"],
          ["Our Slack channels stopped getting Northdeck updates on {date}. The integration shows Connected, we reconnected it twice and the test message arrives, but no real updates. All our channels are affected.",
           "Since your update this week nothing from Northdeck is posted to Slack anymore, for any project. Reconnecting did not help. Please escalate."],
          kb=0.1),
        P(L1, ["Slack 'app is not allowed'", "Create card from Slack message fails"],
          ["When I try to create a card from a Slack message it says 'This app is not allowed in this workspace'. What do I need to change?"]),
    ],
    "microsoft-teams-integration": [
        P(L1, ["Northdeck in Microsoft Teams", "Teams app install", "Add board as Teams tab"],
          ["Can we pin a Northdeck project as a tab in a Teams channel? I can't find the app in Teams.",
           "How do I get Northdeck notifications in Teams instead of email?"],
          plans="tbe"),
        P(L1, ["Teams tab blank", "Teams tab not loading"],
          ["The Northdeck tab in Teams shows a blank page in the browser version of Teams. Desktop Teams works. Is there a setting for that?"],
          plans="tbe"),
        P(L1, ["Teams notifications in shared channel", "No notifications in shared Teams channel"],
          ["We have a shared channel with a partner company and Northdeck notifications don't arrive there. Works in normal channels. Is this supported?"],
          plans="tbe"),
    ],
    "google-calendar-sync": [
        P(L1, ["Due dates in Google Calendar", "Calendar sync", "Show tasks in my calendar"],
          ["How do I see my Northdeck due dates in Google Calendar?",
           "Is there a calendar integration? I want my assigned cards in my calendar."]),
        P(L1, ["Calendar not updating", "Google Calendar feed doesn't update"],
          ["I changed due dates in Northdeck this morning and Google Calendar still shows the old dates. It's been {hours} hours. How often does it refresh?",
           "The calendar feed still shows cards I completed last week. How often is it updated?"]),
        P(L1, ["Moving event in Google Calendar doesn't change card"],
          ["If I drag an event in Google Calendar to another day, the due date in Northdeck doesn't change. Is the sync one-way?"]),
    ],
    "github-gitlab-integration": [
        P(L1, ["GitHub integration", "Link PRs to cards", "GitLab support?"],
          ["Does Northdeck link GitHub pull requests to cards? How does it know which card?",
           "We use self-managed GitLab {gitlab_ver}. Is that supported?"],
          plans="tbe"),
        P(L2, ["PRs not showing on cards since the update", "GitHub links stopped for all repos", "Development section empty - bug"],
          ["Our PRs stopped showing up on cards on {date}, for all repositories and all developers. We include the key like {card_key} in the branch name as always and reconnected the app. Looks like a bug on your side.",
           "Since the update the Development section is empty on every card, even though the PR title has {card_key} in it. Webhook deliveries from GitHub return 500 from your endpoint."],
          plans="tbe", kb=0.05),
    ],
    "zapier-integration": [
        P(L1, ["Zapier integration", "Create card from form via Zapier"],
          ["Can Zapier create a Northdeck card when someone submits our website form? And can it set a custom field?"]),
        P(L1, ["Zap failing 401", "Zapier stopped working after colleague left", "Zapier 404 Not Found"],
          ["All our Zaps with Northdeck fail with 401 Unauthorized since {teammate} left the company. How do we move them to another account?",
           "Zapier says 404 Not Found when creating cards in {board}. What does that mean?"]),
        P(L1, ["Zapier trigger slow", "Zapier delay"],
          ["The Zapier trigger 'New card' takes up to 15 minutes. Can it be faster?"]),
    ],
    "cloud-file-attachments": [
        P(L1, ["Attach Google Drive file", "Link Dropbox files", "Use OneDrive instead of uploading"],
          ["Can I attach files from Google Drive instead of uploading them? We are running out of storage."]),
        P(L1, ["Drive file says you need access", "Dropbox picker doesn't open", "Preview unavailable for Drive files"],
          ["Teammates can't open the Google Drive files I attach, they get 'You need access'. How should I share them?",
           "When I click Attach and then Dropbox nothing happens. Using {browser}."]),
        P(L1, ["OneDrive needs admin approval"],
          ["Connecting OneDrive says 'Need admin approval'. I'm the admin of Northdeck but not of Microsoft 365. Who needs to approve what?"]),
    ],
    "integration-reconnect-required": [
        P(L1, ["Reconnect required", "Integration disconnected", "Reconnect fails Authorization failed"],
          ["Our Slack integration shows a yellow 'Reconnect required' label. What happened and how do I fix it?",
           "The GitHub integration got disconnected after {teammate} left. How do I fix it without losing our settings?",
           "I click Reconnect on the {integration} integration and it says 'Authorization failed'."]),
        P(L2, ["Reconnected but still no updates - escalate", "Integration shows Connected, nothing arrives for hours"],
          ["I reconnected the {integration} integration as the article says and it shows Connected, but updates still don't arrive {hours} hours later. Tried twice. All projects affected.",
           "After reconnecting {integration} the status is green but no events have come through since {date}. The error log shows 'INT-500 upstream error'. Please have engineering look."],
          kb=0.15),
    ],

    # --- mobile_app ----------------------------------------------------------
    "mobile-app-requirements": [
        P(L1, ["App not compatible with my phone", "Can't install app", "Which iOS version needed"],
          ["The App Store says Northdeck is not compatible with my iPhone. It's on iOS 15. Which version do I need?",
           "Google Play says my device isn't compatible. It's an older phone with Android 9."]),
        P(L1, ["This version is no longer supported", "App says update required"],
          ["The app says 'This version of Northdeck is no longer supported. Please update to continue.' but our MDM doesn't allow updates yet. What's the minimum version?"]),
        P(L1, ["Can't find settings in app", "Workspace settings on mobile"],
          ["Where are the workspace settings in the mobile app? I need to add a member and change our plan from my phone."]),
    ],
    "mobile-sign-in-issues": [
        P(L1, ["Can't login on app", "App login fails but web works", "mobile login problem"],
          ["I can log in on the website but the {device} app says invalid password. Same password!",
           "can't log into the android app, web is fine. I normally use the Google button on the web."]),
        P(L1, ["SSO on mobile app loops", "SSO login in iPhone app blank page", "Okta login on app goes back to start"],
          ["SSO works in the browser but on the iPhone app after the {idp} login I'm back at the start screen. How do I sign in with SSO on the app?",
           "Using Continue with SSO in the Android app, I approve in the authenticator app and then get a blank page."],
          plans="be"),
        P(L1, ["AUTH-403 on mobile data", "App blocked outside office"],
          ["The app shows 'Access from this network isn't allowed by your workspace (AUTH-403)' when I'm not on office Wi-Fi. What does that mean?"],
          plans="e"),
    ],
    "mobile-offline-mode": [
        P(L1, ["Use app offline", "Offline mode?", "Work on plane"],
          ["Does the app work offline? I'm flying to {city} tomorrow and want to update cards on the plane."]),
        P(L2, ["Offline changes lost - data is gone", "Edits made offline disappeared, please recover"],
          ["I updated about {n} cards on the plane and when I landed none of the changes are on the web. The cards still show the clock icon and now the app crashed. Is my data gone?",
           "Changes I made offline disappeared after I reinstalled the app. Hours of work, the data is gone. Can your engineers recover them?"],
          kb=0.2),
        P(L1, ["Board not available offline"],
          ["Some boards say 'Not available offline' even though I opened them last month. How do I make them available?"]),
    ],
    "mobile-push-notifications": [
        P(L1, ["No push notifications", "Push notifications not working", "not getting notifications on phone"],
          ["I don't get any push notifications on my {device} since I got a new phone. Email notifications work.",
           "The Android app doesn't notify me about mentions. Where do I turn them on?"]),
        P(L1, ["Push delayed by hours", "Notifications arrive late on Android"],
          ["Push notifications arrive hours late on my {device}, sometimes all at once when I open the app. Is there a phone setting for that?"]),
        P(L1, ["Push only when not on desktop?", "Phone notifications when laptop is open"],
          ["I only get push notifications when I'm away from my laptop. Is that on purpose? I want them always."]),
    ],
    "mobile-sync-issues": [
        P(L1, ["Changes not syncing", "Mobile and web out of sync", "app not showing latest cards"],
          ["Cards I create on the web don't show up in the {device} app until I restart it. How does syncing work?",
           "The app shows a yellow warning triangle on several cards. What does it mean?"]),
        P(L1, ["Duplicate cards from mobile", "Cards created twice"],
          ["Every card I create on the train shows up twice. Bad connection maybe. How do I avoid that?"]),
    ],
    "mobile-app-crashes": [
        P(L2, ["App crashes on launch since the update", "App keeps crashing - version {app_version}", "iOS app freezes after update"],
          ["The app crashes immediately after opening on my {device} ({mobile_os}) since the update to {app_version}. Reinstalled twice. Whole team has the same crash.",
           "The app freezes on the splash screen since the last update ({app_version}). Crash report sent. Everyone on iOS in our company is affected."],
          kb=0.05),
        P(L2, ["App crashes when opening big board", "Crash on one board every time"],
          ["Every time I open our {board} board in the app it crashes. Other boards are fine. The board is big, maybe {n_big} cards. Crash log attached, app version {app_version}.",
           "The {board} board crashes the Android app every single time since the update, for everyone on the team. Looks like a bug."],
          kb=0.1),
    ],

    # --- notifications -------------------------------------------------------
    "email-notification-settings": [
        P(L1, ["Too many emails", "Stop email notifications", "Change email preferences"],
          ["How do I stop getting an email for every comment? I only want emails when someone mentions me.",
           "How do I get off all these emails? The unsubscribe link doesn't stop them."]),
        P(L1, ["Default notification settings for new members"],
          ["As admin, can I set notification defaults for everyone? New people complain about too many emails."]),
        P(L1, ["Still getting emails after turning off"],
          ["I set email to Off but I'm still getting 'new comment' emails from the {board} project. Which setting did I miss?"]),
    ],
    "notification-emails-not-received": [
        P(L1, ["Not receiving emails", "No notification emails", "emails stopped"],
          ["I'm not getting any notification emails anymore. Checked spam. Other people on the team get them.",
           "Some people at {company} don't receive Northdeck emails. We use Microsoft 365. What should IT allow?"]),
        P(L1, ["We can't deliver emails to this address", "Email bounce banner"],
          ["There's a banner saying 'We can't deliver emails to this address'. My mailbox was full last week, it's fixed now. How do I remove the banner?"]),
        P(L1, ["Emails arrive hours late", "Delayed notification emails"],
          ["Notification emails arrive 2-3 hours late. Our IT said they're scanned by the security gateway. Is there something to allowlist?"]),
    ],
    "mentions-and-following": [
        P(L1, ["Mentioned person didn't get notified", "@mention not working"],
          ["I @mentioned {teammate} in a comment and they say they never got a notification. How do mentions work?",
           "Mentions don't seem to notify people on our team, is that a setting?"]),
        P(L1, ["Follow a project", "Get updates on all cards", "How does following work"],
          ["How do I get notified about everything in one project? I'm the project lead.",
           "Why do I get notifications for some cards and not others? I never clicked follow on anything."]),
    ],
    "daily-and-weekly-digest": [
        P(L1, ["Daily summary email", "Weekly digest", "One email per day instead"],
          ["Is there a daily summary email instead of individual notifications?"]),
        P(L1, ["Digest not arriving", "Digest arrives at wrong time"],
          ["The daily digest comes at 3am instead of 8am. Where do I set the time?",
           "I turned on the weekly digest but haven't received one in {n} weeks. Did I miss a setting?"]),
        P(L1, ["Digest to shared inbox", "Send project summary to team mailbox"],
          ["Can we send a project digest to our shared ops@{domain} inbox?"],
          plans="be"),
    ],
    "quiet-hours": [
        P(L1, ["Notifications at night", "Quiet hours", "Do not disturb"],
          ["Can I stop Northdeck pinging me at night and on weekends?",
           "Got push notifications at 2am because a colleague in another time zone commented. Is there a do not disturb?"]),
        P(L1, ["Quiet hours not working"],
          ["I set quiet hours 19:00-08:00 but still got notifications at 22:00. I'm in {city}. What am I doing wrong?"]),
        P(L1, ["Let urgent through quiet hours", "Quiet hours exceptions"],
          ["Can I allow my manager's mentions during quiet hours but block everything else?"]),
    ],
    "reduce-notification-noise": [
        P(L1, ["Too many notifications", "Notification overload", "Hundreds of notifications"],
          ["I got {n_big} notifications overnight. Way too many. How do I reduce them?",
           "An automation rule updated all our cards and everyone got hundreds of emails. How do we stop that next time?"]),
        P(L1, ["Duplicate notifications email push slack", "Same notification three times"],
          ["I get every notification 3 times: email, push and Slack. How do I pick just one?"]),
        P(L2, ["Security: notified about a private project I can't access", "Privacy issue - notification leaked private card"],
          ["I got a notification for a card in a private project I don't have access to. The email shows the card title and comment text. This is a security and privacy issue, please investigate.",
           "Several people on our team received notifications with content from a private HR project they are not members of. Possible data leak, please escalate to your security team."],
          kb=0.05),
    ],

    # --- performance ---------------------------------------------------------
    "speed-up-large-boards": [
        P(L2, ["Board extremely slow since the update", "Board takes 20+ seconds to load for all users", "Laggy board, whole team affected"],
          ["Our {board} board takes 20+ seconds to load since the update and scrolling is laggy. It has around {n_big} cards. We already archived old cards as the article says. All users affected.",
           "Moving a card on our main board takes 3-4 seconds to register. Everyone on the team has the same, since last week. Performance profile attached, please escalate to engineering."],
          kb=0.15),
        P(L2, ["Raise card limit for our project", "Hit card limit, need an exception"],
          ["We can't add cards to {board} anymore, it says the project has reached its card limit. We can't archive, all cards are active. Can your team raise the limit for our workspace?",
           "Please raise the card limit on our workspace. Splitting the project breaks our reporting and our contract says we need one project per client."],
          plans="be", kb=0.2),
        P(L2, ["Table view slow with many fields - escalation", "Table view freezes since the update"],
          ["Table view with {n} custom fields freezes for 10 seconds on every filter since the update. The same view was instant last month. All users affected."],
          kb=0.1),
    ],
    "browser-cache-and-extensions": [
        P(L1, ["App won't load", "Blank page in browser", "Buttons missing"],
          ["Northdeck shows a blank white page in {browser} since this morning. Other browsers work. What should I try?",
           "Half the buttons are missing on the card view. Only in {browser}."]),
        P(L2, ["Typing lag in docs since the update, all browsers", "Input lag for the whole team - escalate"],
          ["Typing in docs has huge lag since the update, every letter appears half a second later. Happens in every browser, in a private window and with all extensions off. Whole team affected. {os}.",
           "Since last week's release typing in any doc is unusable, 1-2 seconds of lag per keystroke. We cleared cache and disabled extensions on {n} computers. Console shows ERR-500 errors."],
          kb=0.05),
    ],
    "service-status-and-incidents": [
        P(L2, ["Is Northdeck down?", "Outage? ERR-503 for everyone", "ERR-503 everywhere", "Northdeck down for all users"],
          ["Is Northdeck down? Getting 'Something went wrong on our side (ERR-503)' on every page. Our whole team is affected.",
           "Nobody in our office can load boards, all users get ERR-503. The status page says all green!"],
          incidents=OUTAGE_DAYS, kb=0.05),
        P(L2, ["Realtime updates down for everyone", "Changes not showing until refresh - outage?"],
          ["Changes from colleagues only appear after I refresh, since about an hour ago. All users in our workspace affected. Is there an incident?"],
          incidents=OUTAGE_DAYS[:1], kb=0.05),
        P(L2, ["SLA credits for outage", "Post-incident report request"],
          ["We had {hours} hours of disruption on {date}. As an Enterprise customer we'd like to request SLA credits under our contract and the post-incident report."],
          plans="e", kb=0.15),
    ],
    "desktop-app-memory-cpu": [
        P(L2, ["Desktop app memory leak since the update", "Desktop app high CPU - bug", "Windows app uses 3 GB RAM"],
          ["The Windows desktop app uses 3 GB of RAM after a day since the update to {app_version}. Diagnostics exported and attached. Looks like a memory leak.",
           "The Mac app keeps one core at 100% and the window flickers since the last update. {os}. Whole design team sees it."],
          kb=0.1),
        P(L1, ["Desktop app won't update", "How to update desktop app"],
          ["The desktop app is stuck on version {app_version}, and Check for updates says there's nothing new. How do I update it?"]),
    ],
    "file-upload-limits-and-slow-uploads": [
        P(L1, ["File too large UPL-413", "Can't upload video", "Upload limit"],
          ["Trying to upload a {file_size} video and get 'This file is too large for your plan (UPL-413)'. What is the limit?"]),
        P(L2, ["Uploads stuck at 99% for everyone since the update", "Uploads failing - UPL-500"],
          ["Since the update all uploads get stuck at 99% for everyone in our company, on every network. The ping test works. Errors show UPL-500.",
           "Any file upload takes minutes and then fails with UPL-500, even small PDFs. All users affected since {date}."],
          kb=0.05),
        P(L1, ["Out of storage UPL-507", "Workspace storage full"],
          ["Can't upload anything: 'Your workspace is out of storage (UPL-507)'. We're on {plan_name}. How do we free up space?"]),
    ],
    "network-and-firewall-requirements": [
        P(L1, ["Firewall domains to whitelist", "What domains to allow", "IP ranges for firewall"],
          ["Our security team needs the list of domains and IPs to whitelist for Northdeck. Where can I find it?",
           "Do you publish IP ranges? Our firewall only works with IPs."]),
        P(L2, ["Live updates paused for all users since {date}", "Realtime broken everywhere - not our network"],
          ["Boards show 'Live updates paused' for all users since {date}, in the office and at home, with and without VPN. The network check passes. Something is wrong on your side.",
           "Since the update live updates drop every few minutes for everyone in our company. The network-check page returns NET-500. Please escalate."],
          kb=0.05),
        P(L1, ["Desktop app Secure connection failed", "Live updates paused in office", "WebSocket blocked"],
          ["The desktop and mobile apps say 'Secure connection failed' on the company network. The browser works. What should IT check?",
           "Boards show 'Live updates paused' in the office only. We route everything through a cloud proxy. What do we need to allow?"]),
    ],

    # --- api -----------------------------------------------------------------
    "api-authentication": [
        P(L1, ["API 401 invalid_token", "API token not working", "How to create API token", "Where is my API key"],
          ["Every call to /v2/me returns 401 invalid_token. I created the token a minute ago. I'm sending it as 'Authorization: ndk_pat_...'.",
           "My script stopped working today with 401 invalid_token. How do I check if the token expired?",
           "Where do I generate an API key? I want to pull cards into our BI tool."]),
        P(L1, ["403 sso_required", "API returns sso_required"],
          ["After we enabled SSO our integration gets 403 sso_required for all requests. What do we need to do?"],
          plans="be"),
        P(L2, ["Verify our OAuth app for public install", "OAuth app stuck at 100-user limit - needs review",
               "Publish our OAuth app to the marketplace"],
          ["Our OAuth app is capped at 100 installs because it's unverified. We submitted it for review {n} weeks ago and heard nothing. Your platform team needs to verify it before our launch on {date}.",
           "We need your partner team to review and verify our OAuth app so customers outside our workspace can install it. Unverified apps are blocked for our Enterprise customers."],
          kb=0.05),
    ],
    "api-rate-limits": [
        P(L1, ["429 Too Many Requests", "Rate limited", "What are the API rate limits"],
          ["Our sync job gets 429 rate_limited after about {n} hundred requests. We're on {plan_name}. What are the limits and how should we retry?"]),
        P(L2, ["Unexpected 429 well under the limit", "429 with X-RateLimit-Remaining 500 - bug?"],
          ["We keep getting 429 even though we only run one script at 20 requests per minute, far under the limit. X-RateLimit-Remaining says 580 on the same response. Request ids {req_id}. Looks like a bug on your side.",
           "Since {date} every token in our workspace gets 429 after a handful of calls, well under our plan limit. Request id {req_id}."],
          kb=0.1),
        P(L2, ["Increase rate limit", "Higher API limits for our contract"],
          ["We need a higher API limit for our nightly sync of {n_big} cards. Can you raise it for our workspace? Our contract mentions custom limits."],
          plans="e", kb=0.2),
    ],
    "api-pagination": [
        P(L2, ["Pagination returns same page - bug", "API cursor returns duplicates, cards missing", "API missing cards"],
          ["Paging through the project cards endpoint with next_cursor and I keep getting the same page, and some cards are missing at the end. Request ids of two consecutive calls: {req_id}. Looks like a bug.",
           "The cards endpoint skips items: we get {n} hundred cards by paging but the project has more. Same filters on every page. Request id {req_id}."],
          kb=0.05),
        P(L1, ["offset parameter not working", "How to page in v2", "cursor_expired error"],
          ["In v1 we used offset=100. v2 ignores it. How do I page through results?",
           "Our export script fails with 400 cursor_expired after running for a day. How long do cursors last?"]),
    ],
    "webhooks-setup-and-signatures": [
        P(L2, ["Webhook signatures invalid since {date} - bug", "Signature mismatch on half of deliveries, raw body verified"],
          ["Since {date} about half of the webhook deliveries fail signature verification. We verify the raw body exactly as the article says and nothing changed on our side. Delivery ids attached, looks like a bug.",
           "Our webhook signatures stopped matching after your update, for every endpoint. Same code worked for a year. Please escalate."],
          kb=0.1),
        P(L2, ["Webhooks stopped arriving - 5xx on your side", "No webhook deliveries since {date}"],
          ["We stopped receiving webhooks on {date}. The endpoint is up and returns 200, and Recent deliveries shows nothing at all since then. All our webhooks are affected.",
           "Recent deliveries shows 'Northdeck internal error (500)' for every attempt since the update, our endpoint never gets called. Delivery ids attached."],
          kb=0.05),
        P(L1, ["Duplicate webhook events", "Webhook paused", "Can't verify webhook signature"],
          ["We sometimes receive the same card.updated event twice. How should we handle that?",
           "Our webhook was paused after our server was down. How do we resume it and catch up on events?",
           "Our webhook verification always fails. We compute HMAC-SHA256 of the body with the whsec_ secret in Node.js/Express. What are we doing wrong?"]),
    ],
    "api-error-codes": [
        P(L2, ["API 500 internal_error", "Server errors from API", "500 error creating cards"],
          ["POST /v2/cards returns 500 internal_error for about 10% of requests since {date}. Request id {req_id}.",
           "Getting 502/503 from the API all morning. Request id {req_id}."],
          incidents=OUTAGE_DAYS, kb=0.05),
        P(L2, ["409 conflict on every update - bug", "PATCH always returns 409 even with latest version"],
          ["PATCH on a card returns 409 conflict every time, even right after a fresh GET with the latest version. Request id {req_id}. Looks like a bug on your side.",
           "Since {date} every card update through the API fails with 409 conflict, for all cards. We send the current version from a GET made a second earlier. Request id {req_id}."],
          kb=0.1),
        P(L2, ["504 timeout on small requests", "API 504 since the deploy"],
          ["GET /v2/projects/prj_8Kd2/cards returns 504 timeout even with limit=10 since your deploy on {date}. Request id {req_id}.",
           "Single-card updates time out with 504 since yesterday, nothing changed on our side. Request id {req_id}."],
          kb=0.05),
    ],
    "api-custom-fields": [
        P(L1, ["Set custom field via API", "422 invalid_option"],
          ["How do I set a select custom field through the API? Sending the option name returns 422 invalid_option.",
           "What's the format for a person custom field? Sending an email doesn't work."]),
        P(L2, ["Custom field update returns 200 but no change - bug"],
          ["PATCH with custom_fields returns 200 but the value doesn't change in the UI. The field is enabled on the project, I checked with the fields endpoint. Request id {req_id}. Looks like a bug."],
          kb=0.1),
    ],

    # --- account_admin -------------------------------------------------------
    "invite-members-and-guests": [
        P(L1, ["Invite team members", "Add user", "How to invite guests"],
          ["How do I add {n} new colleagues to our workspace?",
           "We want to invite a client to one project only. Will they see everything?"]),
        P(L1, ["Invitation expired", "Invite email not received", "Invitation was sent to a different email"],
          ["New colleague {teammate} says the invitation link says 'The invitation has expired'. How do I resend it?",
           "My invite link says 'This invitation was sent to a different email address'."]),
        P(L1, ["You can't invite more members", "Member limit reached"],
          ["Trying to invite someone and get 'You can't invite more members'. We're on Free. What's the limit?"],
          plans="f"),
    ],
    "roles-and-permissions": [
        P(L1, ["Make someone admin", "Difference between admin and owner", "View-only access"],
          ["What's the difference between Admin and Owner? I want {teammate} to manage members but not billing.",
           "How do I give someone view-only access to a project?"]),
        P(L2, ["Security: guest can see a private project", "Permission bug - member sees private project"],
          ["A guest from our client can see a project they were never invited to. We checked the Share panel and their role, everything looks right. This is a security problem, please investigate.",
           "A member can open our private board even though they are not in the Share panel. Looks like a permission bug and a security issue for us."],
          kb=0.15),
        P(L1, ["Billing admin role", "Role for accountant"],
          ["Our accountant needs invoices but shouldn't see projects. Is there a role for that?"],
          plans="tbe"),
    ],
    "deactivate-or-remove-members": [
        P(L1, ["Remove employee", "Deactivate user who left", "Offboard user"],
          ["{teammate} left the company. How do I remove them and reassign their cards?",
           "How do we deactivate someone who left? We don't want to lose their comments."]),
        P(L2, ["Still billed for deactivated users - want a credit", "Overcharged for ex-employees, refund please"],
          ["We deactivated {n} people months ago and the seat count on our invoice never went down. We were overcharged and want a refund or credit for those seats.",
           "Why does the invoice still include users we removed on {date}? We compared the member export with the invoice. Please correct it and refund the difference."],
          plans="tbe", kb=0.15),
        P(L1, ["SCIM reactivated deactivated user"],
          ["I deactivated a user and the next day they were active again. Why?"],
          plans="e"),
    ],
    "transfer-workspace-ownership": [
        P(L1, ["Transfer ownership", "Change workspace owner"],
          ["I'm leaving the company at the end of the month. How do I make {teammate} the owner?"]),
        P(L2, ["Owner left the company - need ownership transferred", "Owner account inaccessible", "Need ownership transferred by support"],
          ["Our workspace owner left and nobody can access his account. We're admins. We need your team to transfer ownership to me, we can send proof from our legal department.",
           "The person who created our workspace was let go and her email is deactivated. We need support to move ownership and billing to us."],
          kb=0.15),
    ],
    "change-account-email": [
        P(L1, ["Change email address", "Update login email"],
          ["My name changed and my work email is now {first}.{last}@{domain}. How do I update my account?",
           "How do I change my login email? The old one is my personal gmail."]),
        P(L2, ["Company domain change - migrate all accounts", "Rebrand: move every account to new domain"],
          ["Our company is rebranding and moving all {seats} accounts to {domain} on {date}. We need your team to migrate everybody's email at once and keep SSO working."],
          plans="be", kb=0.15),
        P(L1, ["This email is already in use", "Merge two accounts"],
          ["Trying to change my email but get 'This email is already in use'. I think I created a second account by accident once. What do I do?"]),
    ],
    "scim-user-provisioning": [
        P(L1, ["SCIM setup", "SCIM provisioning with Okta", "Auto provisioning users"],
          ["We want to auto-provision users from {idp}. Where do we get the SCIM token?",
           "Is SCIM supported on Business? We only see SSO in the security settings."],
          plans="be"),
        P(L1, ["SCIM 409 conflict", "SCIM provisioning errors"],
          ["The {idp} provisioning log shows '409 Conflict: user already exists' for {n} users. What does it mean?"],
          plans="e"),
    ],
    "delete-workspace-or-account": [
        P(L1, ["Delete workspace", "Delete our account", "close account"],
          ["How do we delete our workspace and all data? We're not using it anymore.",
           "How do I delete my account? It says I own a workspace."]),
        P(L1, ["Delete workspace button greyed out"],
          ["The Delete workspace button is greyed out and I'm the owner. Why?"]),
        P(L2, ["Undo workspace deletion - data is gone", "Deleted workspace by mistake, restore from backup"],
          ["I deleted our old workspace by mistake {n} days ago, it was the wrong one! All our data is gone. Can your engineers restore it from a backup?"],
          kb=0.15),
    ],

    # --- bugs ----------------------------------------------------------------
    "how-to-report-a-bug": [
        P(L2, ["Bug report", "Found a bug", "Something is broken since the update"],
          ["When I click 'Duplicate' on a card with a checklist, the checklist items come out in reverse order. Happens every time since the update. Steps to reproduce attached.",
           "The filter 'Assigned to me' also shows cards assigned to {teammate}. Confirmed on 3 accounts, looks like a bug."]),
        P(L2, ["Error ERR-500 when opening card", "Something went wrong when opening card (ERR-500)"],
          ["Some cards show 'Something went wrong (ERR-500)' when I open them since the update. Others are fine. Both in {browser} and the desktop app. HAR file attached.",
           "Cards in {board} fail to open with ERR-500 for all users. Blocking our whole team."],
          kb=0.05),
        P(L1, ["How to send you HAR file", "What is a HAR file"],
          ["Support asked me for a HAR file. What is that and how do I make one?"]),
    ],
    "drag-and-drop-not-working": [
        P(L1, ["Can't drag cards", "Drag and drop not working", "drag n drop not working"],
          ["I can't drag cards between lists anymore. The card just snaps back. {browser}. Is there a setting?",
           "Drag and drop has stopped working on our board, for me only. What can I try?"]),
        P(L1, ["Cards won't reorder"],
          ["I can move cards to other lists but can't reorder them within a list. Why?"]),
        P(L2, ["Drag fails on touchscreen laptop - bug since the update"],
          ["On my touchscreen laptop dragging cards stops working after a while since the update, I need to reload. Reproducible every time, screen recording attached.",
           "Drag and drop breaks on all our touchscreen laptops since the latest release. Console shows ERR-500. Please pass to engineering."],
          kb=0.05),
    ],
    "changes-not-saving": [
        P(L2, ["Couldn't save your changes SAVE-409 since the update", "SAVE-409 error for the whole team", "Changes not saving - bug"],
          ["I keep getting 'Couldn't save your changes (SAVE-409)' when editing card descriptions in {board}, since the update. Nobody else is editing. All users affected.",
           "Red banner 'Couldn't save your changes' with code SAVE-0, several times an hour since last week, on every network. HAR file attached."],
          kb=0.15),
        P(L2, ["Lost work - data is gone", "My edits disappeared", "Doc content lost, data loss"],
          ["I spent two hours writing a doc and when I came back most of it is gone. No error. The data is gone and version history shows nothing. This is data loss.",
           "Everything I typed in the card description yesterday is gone. Version history shows nothing. Please escalate, we need it recovered."],
          kb=0.05),
    ],
    "due-dates-off-by-one-day": [
        P(L1, ["Due dates off by one day", "Wrong due date shown", "Dates shift by one day"],
          ["All due dates I set show one day earlier for my colleague in {city}. Is it a time zone setting?",
           "Due dates appear a day early in the calendar view. Where do I check the time zone?"]),
        P(L2, ["Dates still wrong with correct time zones - bug", "Reminders at wrong time since the update"],
          ["Due reminders arrive at 2am instead of 9am since the update. Everyone's profile time zone is correct, we checked all {n} of them. Looks like a bug.",
           "Due dates shift by one day for all users although every profile and the workspace use the same time zone. Card URLs and screenshots attached, please escalate."],
          kb=0.1),
    ],
    "attachment-previews-not-loading": [
        P(L2, ["Previews not loading since the update", "PDF preview blank for everyone", "Images don't show - bug"],
          ["Attachment previews show a grey box since last week's update, for all users. Download works. Console shows ERR-500.",
           "PDF previews never load since the update, just spinning, in every browser and the desktop app. Whole team affected."],
          kb=0.1),
        P(L1, ["Preview unavailable for Google files"],
          ["Google Sheets attached to cards say 'Preview unavailable'. Do I need to change a sharing setting?"]),
    ],
    "paste-formatting-in-docs": [
        P(L1, ["Formatting lost when pasting", "Paste from Word", "Pasting tables"],
          ["When I paste from Word into a doc, all the numbering breaks and headings become normal text. How do I keep the formatting?",
           "Pasting a table from Excel just pastes plain text. It's about 60 columns wide. Is there a limit?"]),
        P(L2, ["Paste freezes page - bug", "Pasting crashes the tab since the update"],
          ["Pasting a long email into a card freezes the whole tab since the update, and the text I had typed before is gone. Reproducible every time.",
           "Pasting anything from Outlook into a doc crashes the page for everyone on our team. Sample attached, please pass to engineering."],
          kb=0.05),
    ],
    "automation-rules-not-running": [
        P(L2, ["Automation not running since {date}", "Rule not triggering - bug", "Automations stopped for all rules"],
          ["Our rule 'When card moved to Done, archive after 7 days' stopped running on {date}. Run history is empty. No limits reached, nothing changed on our side.",
           "The automation that assigns new cards to {teammate} stopped triggering since the update, for every project. Looks like a bug."],
          kb=0.05),
        P(L1, ["Rule paused after errors", "Automation run limit"],
          ["All our automations stopped. An email says we reached the monthly limit. We're on {plan_name}. What are the limits?"]),
        P(L2, ["Rule ran but nothing changed - bug"],
          ["Run history says success but the card wasn't moved. Rule name and card URL attached, please have engineering check the run."],
          kb=0.05),
    ],

    # --- security_privacy ----------------------------------------------------
    "two-step-verification": [
        P(L1, ["Enable 2FA", "Two factor authentication", "Require 2FA for team"],
          ["How do I turn on two-factor authentication?",
           "Can we require 2FA for all {seats} members?"]),
        P(L1, ["2FA code doesn't work", "AUTH-2FA-01", "Authenticator codes rejected"],
          ["My authenticator codes are rejected: 'That code didn't work (AUTH-2FA-01)'. What should I check?"]),
    ],
    "lost-2fa-device": [
        P(L2, ["Lost phone 2FA, no recovery codes", "New phone, locked out - identity verification", "Lost authenticator, need 2FA removed"],
          ["I lost my phone with the authenticator app and can't log in. I don't have recovery codes. Your security team needs to verify my identity and remove 2FA.",
           "Got a new phone and reset the old one, now I can't get 2FA codes and I never saved recovery codes. Please verify me and reset 2FA."],
          kb=0.25),
        P(L1, ["Reset 2FA for employee"],
          ["As admin, how do I reset 2FA for {teammate}? They changed phones."],
          plans="be"),
    ],
    "audit-log": [
        P(L1, ["Who deleted project", "Audit log", "See who changed settings"],
          ["How can I see who deleted the {board} project?",
           "We need an export of all sign-ins for the last 6 months for an audit. Where do I get it?"],
          plans="be"),
        P(L1, ["Audit log not available"],
          ["Where is the audit log? I'm an admin on {plan_name}."],
          plans="ft"),
        P(L1, ["Stream audit log to SIEM"],
          ["Can we send audit events to our SIEM? Which endpoint do we use?"],
          plans="e"),
    ],
    "gdpr-data-requests": [
        P(L1, ["DPA", "Sign data processing agreement", "Sub-processor list"],
          ["Our legal team needs a DPA with SCCs. Where can I sign it?",
           "Where can I find your list of sub-processors?"]),
        P(L2, ["Legal: DPA redlines", "Formal GDPR erasure request", "Right to be forgotten - legal request"],
          ["Our legal team has redlines on your DPA and needs a countersigned version with our changes before the contract renewal. Who handles legal requests?",
           "This is a formal GDPR erasure request under Article 17. Delete all personal data you hold about me and confirm in writing within 30 days."],
          kb=0.15),
        P(L1, ["Download my data", "Former employee asks for data deletion"],
          ["I want a copy of all the personal data you hold about me. Where do I download it?",
           "A former employee has asked us to delete all their personal data from our workspace. How do we do this?"]),
    ],
    "ip-allowlist-and-session-policies": [
        P(L1, ["IP allowlist setup", "Restrict access to office IP", "Session timeout"],
          ["We want to restrict access to our office IP ranges. How?",
           "Can we set a session timeout of 8 hours for everyone?"],
          plans="e"),
        P(L2, ["Blocked by IP allowlist although IP is allowed - bug", "AUTH-403 in office, audit log shows allowed IP"],
          ["All users in our {city} office get AUTH-403 even though the office range is in the allowlist. The audit log shows auth.ip_blocked with an IP that is inside the allowed range. No proxy, no IPv6. Looks like a bug."],
          plans="e", kb=0.15),
    ],
    "report-suspicious-activity": [
        P(L2, ["Account hacked", "Suspicious login - security incident", "Someone accessed my account"],
          ["Someone logged into my account from {city} and changed my name. I did not do this! Security incident, please lock the account.",
           "There are active sessions in my account that aren't mine. Also a personal access token I didn't create. I think we've been compromised."],
          kb=0.2),
        P(L2, ["Phishing email impersonating Northdeck", "Fake Northdeck email - security"],
          ["Got an email 'Your Northdeck workspace will be suspended' asking for card details. Several colleagues clicked it. Security issue, please advise and take the site down."],
          kb=0.2),
        P(L2, ["Security vulnerability report", "Possible XSS vulnerability"],
          ["I found a stored XSS in card titles that executes in the timeline view. Where do I report this security vulnerability responsibly?"],
          kb=0.2),
    ],
    "data-storage-and-retention": [
        P(L1, ["Where is our data stored", "EU data residency", "Retention policy setup"],
          ["Where is our data physically stored? We're a company in {country} and our DPO is asking.",
           "Can we store our data in the EU?",
           "We need to auto-delete cards older than 3 years in one space. Where do we set that up?"]),
        P(L2, ["Legal hold for litigation", "Legal request: preserve former employee's data"],
          ["Our counsel needs a legal hold on a former employee's content for pending litigation, and written confirmation from Northdeck that nothing will be deleted.",
           "Legal request: we need you to preserve all data of the {board} space for an investigation and sign our preservation letter."],
          plans="e", kb=0.15),
        P(L1, ["Encryption at rest", "SOC 2 report"],
          ["Where can I get your SOC 2 report and details on encryption at rest?"]),
    ],
}

# Some articles are reached far more often than others (long-tail popularity).
POPULARITY = {
    "reset-password": 2.6, "sso-troubleshooting-errors": 1.6, "logged-out-repeatedly": 1.3,
    "download-invoices-receipts": 1.8, "failed-payment-past-due": 1.3, "cancel-subscription-refunds": 1.5,
    "seats-and-prorated-charges": 1.3, "export-board-csv": 1.6, "import-from-trello-asana": 1.2,
    "restore-deleted-items": 1.3, "slack-integration": 1.4, "google-calendar-sync": 1.2,
    "mobile-push-notifications": 1.6, "mobile-sign-in-issues": 1.4, "mobile-app-crashes": 1.2,
    "notification-emails-not-received": 1.5, "email-notification-settings": 1.3,
    "speed-up-large-boards": 1.5, "service-status-and-incidents": 1.2, "api-rate-limits": 1.2,
    "api-authentication": 1.3, "invite-members-and-guests": 1.6, "deactivate-or-remove-members": 1.4,
    "changes-not-saving": 1.3, "drag-and-drop-not-working": 1.2, "two-step-verification": 1.1,
    "lost-2fa-device": 1.4, "api-custom-fields": 0.6, "scim-user-provisioning": 0.7,
    "ip-allowlist-and-session-policies": 0.6, "paste-formatting-in-docs": 0.8, "quiet-hours": 0.7,
    "daily-and-weekly-digest": 0.7, "desktop-app-memory-cpu": 0.8, "microsoft-teams-integration": 0.8,
}

# ---------------------------------------------------------------------------
# Content gaps: recurring needs that no KB article covers (article_id empty)
# ---------------------------------------------------------------------------
# A need no article covers is L2 (a specialist has to answer it); a small share
# (GAP_L1_SHARE) is closed by L1 anyway with a workaround or a logged request.

Gap = namedtuple("Gap", "key category weight problem")

GAPS = [
    Gap("pdf-export-custom-branding", "data_export", 1.2, P(
        L2, ["Export to PDF with our logo", "PDF export with custom branding", "Branded PDF report for clients",
              "Can we export a board as PDF?", "White-label PDF export"],
        ["We send weekly status reports to clients. Is there a way to export a project or a doc as a PDF with our own logo and colors instead of the Northdeck look?",
         "I need to export the {board} timeline as a PDF for a client presentation, ideally with our company header and footer. CSV is useless for this.",
         "Our clients want PDF reports. Can I print a board to PDF with our logo and without the Northdeck branding?",
         "Is white-label PDF export on the roadmap? Our agency needs branded exports for {n} clients every month."])),
    Gap("bulk-delete-archived-projects", "account_admin", 1.15, P(
        L2, ["Bulk delete archived projects", "Delete many archived projects at once",
               "Clean up hundreds of archived projects", "Mass delete old projects"],
        ["We have over {n_big} archived projects from old clients. Deleting them one by one takes forever. Is there a bulk delete?",
         "How can I permanently delete all archived projects older than a year in one go? We need this for storage and for our own retention rules.",
         "Admin here: is there a way to select multiple archived projects and delete them? The archive page only lets me restore them one at a time."])),
    Gap("outlook-two-way-calendar-sync", "integrations", 1.3, P(
        L2, ["Outlook calendar sync", "Two-way sync with Outlook", "Sync tasks with Outlook calendar both ways",
              "Outlook integration for due dates"],
        ["We use Outlook and Exchange for everything. Is there a two-way sync so moving a meeting in Outlook updates the due date in Northdeck?",
         "The calendar feed shows up in Outlook but it's read-only. We need changes made in Outlook to go back to Northdeck.",
         "Our company is on Microsoft 365. Can Northdeck create events directly in our Outlook calendars and keep them in sync both ways?"])),
    Gap("data-residency-australia", "security_privacy", 0.9, P(
        L2, ["Data residency in Australia", "Host our data in Australia", "AU data center?",
               "Australian data region"],
        ["We're a government contractor in {au_city} and our data must stay in Australia. Do you offer an Australian region?",
         "Our procurement team asks if Northdeck can store data in Australia (Sydney). The EU and US regions won't pass our compliance review.",
         "Is there an APAC or Australian data residency option on Enterprise? It's a hard requirement for our {au_city} office."])),
    Gap("invoice-in-japanese-yen", "billing", 0.9, P(
        L2, ["Invoice in Japanese yen", "Pay in JPY", "Local currency invoice for Japan", "JPY billing"],
        ["Our accounting department in Tokyo requires invoices in Japanese yen. Can you bill us in JPY instead of USD?",
         "Can we get our Northdeck invoice issued in Japanese yen with a qualified invoice registration number? Our finance team cannot process USD invoices.",
         "We are a Japanese company and need the invoice in JPY currency and Japanese format please."])),
    Gap("screen-reader-accessibility", "bugs", 1.1, P(
        L2, ["Screen reader can't read boards", "Accessibility issue with NVDA", "VoiceOver not working on cards",
               "Keyboard navigation on boards", "WCAG / VPAT request"],
        ["I'm blind and use NVDA with {browser}. The board view announces nothing useful; cards are just 'clickable' with no title.",
         "Our colleague uses VoiceOver on a Mac and can't move cards between lists with the keyboard. Is there an accessible way?",
         "Do you have a VPAT or WCAG 2.1 AA conformance report? One of our users relies on a screen reader and the timeline is unusable for her."])),
    Gap("sms-whatsapp-notifications", "notifications", 1.0, P(
        L2, ["SMS notifications", "WhatsApp alerts for due dates", "Text message notifications"],
        ["Our field technicians don't use email. Can Northdeck send SMS or WhatsApp messages when a card is assigned to them?",
         "Is it possible to get a text message when a task is overdue? Push notifications aren't reliable enough for our on-call team.",
         "We need WhatsApp notifications for our team in {country}, nobody there reads email."])),
    Gap("api-time-tracking-entries", "api", 1.0, P(
        L2, ["Time tracking data via API", "API endpoint for time entries", "Export logged hours through API"],
        ["The time tracking on cards is great but I can't find any API endpoint for time entries. We need them to invoice clients.",
         "GET on cards doesn't return logged time. Is there a time-entries endpoint? We want to sync hours to our payroll system.",
         "How can I pull tracked hours per person through the API? Webhooks don't fire when time is logged either."])),
]


# ---------------------------------------------------------------------------
# Slot fillers
# ---------------------------------------------------------------------------

FIRST_NAMES = [
    "Priya", "Tomás", "Mei", "Oluwaseun", "Hannah", "Lars", "Aisha", "Kenji", "Sofia", "Marcus",
    "Fatima", "Diego", "Chloe", "Arjun", "Ingrid", "Yusuf", "Grace", "Mateo", "Nadia", "Ben",
    "Zoe", "Rahul", "Elena", "Kwame", "Lucía", "Tom", "Anja", "Hiroshi", "Maya", "Owen",
    "Camille", "Dmitri", "Leila", "Sam", "Noor", "Patrick", "Julia", "Wei", "Amara", "Jonas",
]
LAST_NAMES = [
    "Sharma", "Okafor", "Lindqvist", "Nakamura", "Costa", "Fischer", "Haddad", "Brennan", "Moreau", "Kowalski",
    "Mensah", "García", "O'Neill", "Tanaka", "Rossi", "Novak", "Patel", "Andersen", "Silva", "Chen",
    "Dubois", "Ivanova", "Walsh", "Yilmaz", "Martins", "Becker", "Reyes", "Adeyemi", "Park", "Hughes",
]
COMPANIES = [
    ("Brightline Studio", "brightline.studio"), ("Harbor & Finch", "harborfinch.com"),
    ("Oakridge Dental Group", "oakridgedental.com"), ("Pellucid Labs", "pellucidlabs.io"),
    ("Northgate Logistics", "northgate-logistics.com"), ("Kilnworks Ceramics", "kilnworks.co.uk"),
    ("Meridian Health Partners", "meridianhp.org"), ("Tallow & Thread", "tallowthread.com"),
    ("Quartzline Engineering", "quartzline.de"), ("Bluefern Marketing", "bluefern.agency"),
    ("Copperleaf Architects", "copperleaf-arch.com"), ("Sundial Events", "sundialevents.com"),
    ("Vantage Point Realty", "vantagepointrealty.com"), ("Greenhollow School District", "greenhollow.k12.us"),
    ("Atlas Freight Co", "atlasfreight.co"), ("Lumen Robotics", "lumenrobotics.ai"),
    ("Riverbend Nonprofit Alliance", "riverbend.ngo"), ("Cobalt & Co Legal", "cobaltlegal.com"),
    ("Fjordline Software", "fjordline.no"), ("Maple Street Bakery", "maplestreetbakery.ca"),
    ("Ironbark Construction", "ironbark.com.au"), ("Saffron Media", "saffronmedia.in"),
    ("Nimbus Analytics", "nimbusanalytics.io"), ("Paloma Travel", "palomatravel.mx"),
    ("Hexagon Games", "hexagongames.dev"), ("Clearwater Clinics", "clearwaterclinics.com"),
]
BROWSERS = ["Chrome", "Chrome 126", "Chrome 124", "Firefox", "Firefox 128", "Safari", "Safari 17",
            "Edge", "Edge 125", "Brave", "Arc"]
DESKTOP_OS = ["Windows 11", "Windows 10", "macOS Sonoma", "macOS Ventura", "macOS Sequoia", "Ubuntu 22.04"]
DEVICES = [("iPhone 13", "iOS 17.5"), ("iPhone 15 Pro", "iOS 18.1"), ("iPhone SE", "iOS 16.7"),
           ("iPad Air", "iPadOS 17.6"), ("Pixel 7", "Android 14"), ("Pixel 8", "Android 15"),
           ("Galaxy S23", "Android 14"), ("Galaxy A54", "Android 13"), ("OnePlus 11", "Android 14"),
           ("Galaxy Tab S8", "Android 13"), ("Redmi Note 12", "Android 13"), ("iPhone 12 mini", "iOS 17.2")]
IDPS = ["Okta", "Entra ID", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud"]
BOARDS = ["Q3 Launch", "Content Calendar", "Hiring Pipeline", "Sprint 42", "Client Onboarding",
          "Website Redesign", "Marketing Ops", "IT Requests", "Product Roadmap", "Customer Escalations",
          "Office Move", "Event Planning 2026", "Grant Applications", "Season Campaign", "Support Backlog"]
CITIES = ["Lisbon", "Toronto", "Singapore", "Nairobi", "Austin", "Manila", "Warsaw", "São Paulo",
          "Dublin", "Bangalore", "Berlin", "Chicago", "Osaka", "Cape Town", "Mexico City", "Lagos"]
AU_CITIES = ["Sydney", "Melbourne", "Brisbane", "Canberra", "Perth", "Adelaide"]
COUNTRIES = ["Germany", "Brazil", "India", "France", "Poland", "Spain", "Mexico", "the Netherlands",
             "Indonesia", "Turkey", "Kenya", "Italy", "Portugal", "Vietnam"]
INDUSTRIES = ["design agency", "dental group", "logistics company", "non-profit", "software startup",
              "architecture firm", "marketing agency", "university department", "construction company",
              "e-commerce shop", "law firm", "events company"]
INTEGRATIONS = ["Slack", "GitHub", "Microsoft Teams", "GitLab", "Google Drive"]
SLACK_CHANNELS = ["marketing", "dev-updates", "ops", "design-team", "client-acme", "launch-war-room", "support"]
FILE_SIZES = ["80 MB", "300 MB", "650 MB", "1.2 GB", "2 GB", "4.5 GB"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def _gen_company(rng, s):
    name, domain = rng.choice(COMPANIES)
    s["domain"] = domain
    return name


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", plain.lower())


def _gen_email(rng, s):
    first, last = _ascii(s["first"]), _ascii(s["last"])
    style = rng.randrange(3)
    local = f"{first}.{last}" if style == 0 else (f"{first[0]}{last}" if style == 1 else first)
    return f"{local}@{s['domain']}"


def _gen_device(rng, s):
    name, os_name = rng.choice(DEVICES)
    s["mobile_os"] = os_name
    return name


def _gen_date(rng, s):
    day = s.created - dt.timedelta(days=rng.randint(0, 12))
    if rng.random() < 0.7:
        return f"{MONTHS[day.month - 1]} {day.day}"
    return f"{day.day} {MONTHS[day.month - 1][:3]}"


def _gen_amount(rng, s):
    symbol = rng.choice(["$", "$", "$", "€", "£"])
    return f"{symbol}{rng.randint(3, 240) * 10:,}.00"


SLOT_GENERATORS = {
    "first": lambda rng, s: rng.choice(FIRST_NAMES),
    "last": lambda rng, s: rng.choice(LAST_NAMES),
    "company": _gen_company,
    "domain": lambda rng, s: (s["company"], s.get("domain"))[1],
    "email": _gen_email,
    "teammate": lambda rng, s: rng.choice(FIRST_NAMES),
    "browser": lambda rng, s: rng.choice(BROWSERS),
    "os": lambda rng, s: rng.choice(DESKTOP_OS),
    "device": _gen_device,
    "mobile_os": lambda rng, s: (s["device"], s.get("mobile_os"))[1],
    "idp": lambda rng, s: rng.choice(IDPS),
    "board": lambda rng, s: rng.choice(BOARDS),
    "city": lambda rng, s: rng.choice(CITIES),
    "au_city": lambda rng, s: rng.choice(AU_CITIES),
    "country": lambda rng, s: rng.choice(COUNTRIES),
    "industry": lambda rng, s: rng.choice(INDUSTRIES),
    "integration": lambda rng, s: rng.choice(INTEGRATIONS),
    "channel_name": lambda rng, s: rng.choice(SLACK_CHANNELS),
    "n": lambda rng, s: str(rng.randint(2, 9)),
    "n_big": lambda rng, s: f"{rng.choice([1200, 1800, 2500, 3400, 4200, 6000, 8500, 12000]):,}",
    "seats": lambda rng, s: str(rng.randint(11, 160)),
    "team_size": lambda rng, s: str(rng.choice([6, 12, 18, 25, 40, 60, 85, 150, 300])),
    "amount": _gen_amount,
    "invoice": lambda rng, s: f"INV-2026-{rng.randint(1000, 19999):06d}",
    "date": _gen_date,
    "hours": lambda rng, s: str(rng.choice([2, 3, 4, 6, 8, 12])),
    "mins": lambda rng, s: str(rng.choice([5, 10, 20, 45])),
    "app_version": lambda rng, s: f"6.{rng.randint(1, 9)}.{rng.randint(0, 4)}",
    "file_size": lambda rng, s: rng.choice(FILE_SIZES),
    "card_key": lambda rng, s: f"{rng.choice(['WEB', 'APP', 'OPS', 'MKT', 'ND'])}-{rng.randint(12, 4999)}",
    "req_id": lambda rng, s: "req_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                                              for _ in range(7)),
    "card_brand": lambda rng, s: rng.choice(["Visa", "Mastercard", "Amex"]),
    "gitlab_ver": lambda rng, s: rng.choice(["15.11", "16.4", "16.9", "17.2"]),
}


class Slots(dict):
    """Lazily filled template slots: each value is drawn once per ticket."""

    def __init__(self, rng: random.Random, plan: str, created: dt.datetime):
        super().__init__(plan_name=PLAN_NAMES[plan])
        self.rng = rng
        self.created = created

    def __missing__(self, key):
        gen = SLOT_GENERATORS.get(key)
        if gen is None:
            raise KeyError(f"unknown template slot {{{key}}}")
        value = gen(self.rng, self)  # generators may also set related keys (company -> domain)
        self[key] = value
        return value

    def fill(self, template: str) -> str:
        return template.format_map(self)


# ---------------------------------------------------------------------------
# Tone, channel and noise
# ---------------------------------------------------------------------------

GREETINGS = ["Hi,", "Hello,", "Hi there,", "Hi Northdeck team,", "Good morning,", "Hello support,",
             "Dear Northdeck support,", "Hey team,", "Hi all,"]
CLOSINGS = ["Thanks,\n{first}", "Thank you!\n{first} {last}", "Best regards,\n{first} {last}\n{company}",
            "Cheers,\n{first}", "Many thanks,\n{first}", "Kind regards,\n{first} {last}",
            "Thanks in advance,\n{first}", "Best,\n{first}"]
POLITE_ASKS = ["Could you help?", "Any idea what's going on?", "Thanks for looking into it.",
               "Let me know if you need anything else from me.", "Is there something I'm missing?", ""]
ANGRY_OPENERS = ["This is getting ridiculous.", "Seriously?", "I'm really frustrated.",
                 "Third time I'm writing about this.", "Not happy.", "Come on."]
ANGRY_ADDONS_PAID = ["We pay for {plan_name} and this is not acceptable.",
                     "If this isn't fixed today we will look at other tools.",
                     "Please escalate this, I need a real answer and not a link to the help center.",
                     "I've already wasted an hour on this."]
ANGRY_ADDONS_FREE = ["We were about to upgrade the whole team but not if this is how it works.",
                     "I've already wasted an hour on this.",
                     "Please give me a real answer and not a link to the help center."]
ANGRY_CLOSINGS = ["Fix it please.", "Waiting for an urgent reply.", "- {first}", "{first} {last}, {company}",
                  "Reply ASAP."]
RAMBLE_CONTEXT = [
    "Some background: we're a {team_size}-person {industry} and moved to Northdeck from spreadsheets earlier this year.",
    "I'm covering for our usual admin who is on leave, so apologies if this is a silly question.",
    "We run pretty much all of our client work out of Northdeck, something like {n} spaces and a lot of boards.",
    "Side note, the new timeline view is great, my manager keeps showing it to everyone.",
    "I'm writing this from my phone between meetings so sorry if it's a bit messy.",
    "We have a big review with leadership on Thursday and I was hoping to have everything tidy before that.",
    "I tried to find the answer in the help center but honestly I got lost after the third article.",
    "Our IT person only comes in on Tuesdays, which is why I'm the one emailing you.",
    "For context I'm not very technical, I mostly do the scheduling for the team.",
    "We had something similar last year with a different tool and it took weeks to sort out, hoping this is quicker.",
    "Not sure if it matters but we also use {integration} with Northdeck.",
    "Our office internet has been flaky this week because of construction next door, but I don't think that's related.",
    "I've been using Northdeck since the early days and generally love it.",
    "My colleague {teammate} thinks it might be something on our side, but I'm not so sure.",
    "We're in the middle of onboarding {n} new people, so everything is a bit chaotic here.",
]
RAMBLE_AFTERTHOUGHTS = ["Anyway, thanks for building a tool we actually like using.",
                        "Oh and is there a dark mode for the mobile app? Just curious.",
                        "By the way, the link in your last newsletter was broken.",
                        "Sorry for the long email!", "Happy Friday :)", "Hope that all makes sense."]
NONNATIVE_OPENERS = ["Hello Sir/Madam,", "Dear Team,", "Greetings of the day!", "Dear Support Team,", "Hello Team,"]
NONNATIVE_CLOSERS = ["Please do the needful.", "Waiting for your kind reply.", "Kindly revert at the earliest.",
                     "Please help on this matter.", "Hope for quick support."]
NONNATIVE_SUBS = [
    (r"\bI can't\b", "I am not able to"), (r"\bcan't\b", "cannot"), (r"\bdoesn't\b", "is not"),
    (r"\bdon't\b", "do not"), (r"\bI'm\b", "I am"), (r"\bWe're\b", "We are"), (r"\bwe're\b", "we are"),
    (r"\bIt's\b", "It is"), (r"\bisn't\b", "is not"), (r"\bHow do I\b", "How to"), (r"\bHow can I\b", "How I can"),
    (r"\bCan you\b", "Kindly"), (r"\bPlease\b", "Kindly"), (r"\bsince this morning\b", "from morning"),
    (r"\bdidn't\b", "did not"), (r"\bWhere do I\b", "Where I can"), (r"\banymore\b", "now"),
]
MIX_PREFIXES = ["Also, unrelated: ", "One more thing - ", "And while I have you: ", "PS: ",
                "Also (different issue): ", "Second question: "]
CHAT_OPENERS = ["hi", "hello", "hey", "Hi there", "hello?", "hi, quick question"]
CHAT_TAILS = ["anyone there?", "thx", "can someone help", "?", "ok I'll wait", "thanks"]
ONE_LINER_TAILS = ["!!", "??", "", " pls", " help", "!!!", "?", " asap", " - urgent"]
PHONE_NOTES = ["Asked customer to send a screenshot by email.",
               "Customer could not stay on the line, promised to follow up by email.",
               "Verified caller against the account email on file.",
               "Call dropped once, called the customer back.",
               "Shared the help center link during the call.",
               "Customer will check with their IT team and reply to this ticket."]

# Confusable categories used for light label noise (an agent picking the neighbouring queue).
CONFUSABLE = {
    "login_sso": ["account_admin", "security_privacy", "mobile_app"],
    "billing": ["account_admin"],
    "data_export": ["integrations", "bugs"],
    "integrations": ["notifications", "bugs", "data_export"],
    "mobile_app": ["bugs", "notifications", "login_sso"],
    "notifications": ["integrations", "mobile_app"],
    "performance": ["bugs"],
    "api": ["integrations", "bugs"],
    "account_admin": ["billing", "security_privacy", "login_sso"],
    "bugs": ["performance", "data_export"],
    "security_privacy": ["login_sso", "account_admin"],
}

STYLE_WEIGHTS = {
    "email": {"polite": 38, "terse": 14, "angry": 12, "rambling": 17, "nonnative": 11, "oneliner": 8},
    "web": {"polite": 34, "terse": 22, "angry": 11, "rambling": 10, "nonnative": 11, "oneliner": 12},
    "chat": {"polite": 22, "terse": 30, "angry": 12, "rambling": 4, "nonnative": 12, "oneliner": 20},
    "phone": {"polite": 55, "terse": 20, "angry": 25},
}
CHANNEL_WEIGHTS = {
    "free": {"email": 36, "chat": 30, "web": 32, "phone": 2},
    "team": {"email": 38, "chat": 26, "web": 30, "phone": 6},
    "business": {"email": 40, "chat": 22, "web": 26, "phone": 12},
    "enterprise": {"email": 42, "chat": 15, "web": 21, "phone": 22},
}

GAP_SHARE = 0.135          # tickets about needs no article covers
TYPO_SHARE = 0.15          # tickets with typos
MIX_SHARE = 0.10           # tickets that mention a second, unrelated problem
LABEL_NOISE = 0.045        # category label flipped to a neighbouring category
ALT_ARTICLE_SHARE = 0.035  # resolved with a different article of the same category
TIER_NOISE = 0.06          # share of tier labels flipped (agents don't always agree on L1 vs L2)
GAP_L1_SHARE = 0.10        # uncovered-need tickets that L1 closed anyway (workaround given, request logged)

_WORD_RE = re.compile(r"(?<![\w./@'-])[a-z]{4,}(?![\w/@-]|\.\w)")  # lowercase words only
_KEY_NEIGHBOURS = {"a": "sq", "e": "wr", "i": "uo", "o": "ip", "n": "bm", "t": "ry", "s": "ad",
                   "r": "et", "l": "k", "c": "xv", "d": "sf", "h": "gj", "u": "yi", "m": "n", "g": "fh"}


def add_typos(text: str, rng: random.Random, rate: float) -> str:
    """Apply random character swaps/drops/doublings/slips to ordinary words.

    Technical tokens (error codes, URLs, snake_case, emails) are left alone.
    """

    def mangle(m):
        word = m.group(0)
        if rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        op = rng.randrange(4)
        if op == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if op == 1:
            return word[:i] + word[i + 1:]
        if op == 2:
            return word[:i] + word[i] + word[i:]
        alt = _KEY_NEIGHBOURS.get(word[i].lower())
        return word[:i] + (rng.choice(alt) if alt else word[i]) + word[i + 1:]

    out = _WORD_RE.sub(mangle, text)
    if rng.random() < 0.35:
        out = re.sub(r"\bI\b", "i", out)
    if rng.random() < 0.35:
        out = re.sub(r"\b(can|don|doesn|isn|won|didn)'t\b", r"\1t", out)
    return out


def nonnative(text: str, rng: random.Random) -> str:
    """Rewrite text with common non-native English patterns."""
    for pattern, repl in NONNATIVE_SUBS:
        if rng.random() < 0.75:
            text = re.sub(pattern, repl, text)
    return re.sub(r"\b(the|a|an) ", lambda m: "" if rng.random() < 0.35 else m.group(0), text)


def lcfirst(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower() and not text.startswith("I "):
        return text[0].lower() + text[1:]
    return text


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def one_liner(subject: str, rng: random.Random) -> str:
    short = re.sub(r"[\"'?!.]", "", subject.lower()).strip()
    return short + rng.choice(ONE_LINER_TAILS)


def _weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


# ---------------------------------------------------------------------------
# Ticket generator
# ---------------------------------------------------------------------------

class TicketGenerator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.articles = {a.id: a for a in ARTICLES}
        self.by_category = {c: sorted(a.id for a in ARTICLES if a.category == c) for c in CATEGORIES}
        self.kb_items = []  # (article_id, problem)
        weights = []
        for aid in sorted(PROBLEMS):
            problems = PROBLEMS[aid]
            for prob in problems:
                self.kb_items.append((aid, prob))
                weights.append(POPULARITY.get(aid, 1.0) / len(problems) * (1.0 + 0.15 * (len(problems) - 2)))
        self.kb_cum = self._cumulative(weights)
        start = (REFERENCE_END - dt.timedelta(days=HISTORY_DAYS)).date()
        self.days = [start + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
        day_w = []
        for i, day in enumerate(self.days):
            weekday = day.weekday()
            factor = 1.0 if weekday < 5 else (0.32 if weekday == 5 else 0.26)
            if weekday == 0:
                factor = 1.15  # Monday backlog
            day_w.append(factor * (0.75 + 0.5 * i / HISTORY_DAYS))  # product is growing
        self.day_cum = self._cumulative(day_w)
        hour_w = [1, 1, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 6.5, 6.5, 6, 6.5, 7, 7, 6.5, 6, 5, 4, 3, 2.5, 2, 1.5]
        self.hour_cum = self._cumulative(hour_w)

    @staticmethod
    def _cumulative(weights):
        total, out = 0.0, []
        for w in weights:
            total += w
            out.append(total)
        return out

    # -- sampling helpers --------------------------------------------------
    def sample_created(self, incidents) -> dt.datetime:
        rng = self.rng
        if incidents and rng.random() < 0.6:
            day = dt.date.fromisoformat(rng.choice(incidents))
            hour = rng.randint(12, 17)
        else:
            day = rng.choices(self.days, cum_weights=self.day_cum)[0]
            hour = rng.choices(range(24), cum_weights=self.hour_cum)[0]
        return dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60),
                           tzinfo=dt.timezone.utc)

    def sample_plan(self, plans: str) -> str:
        allowed = [PLAN_CODES[c] for c in plans]
        return self.rng.choices(allowed, weights=[PLAN_WEIGHTS[p] for p in allowed])[0]

    def secondary_problem(self, aid: str) -> Problem:
        """Pick an unrelated problem to mix into a ticket (mostly another category)."""
        rng = self.rng
        category = self.articles[aid].category
        for _ in range(10):
            other_aid, prob = rng.choices(self.kb_items, cum_weights=self.kb_cum)[0]
            if other_aid != aid and (self.articles[other_aid].category != category or rng.random() < 0.3):
                return prob
        return prob

    # -- text composition --------------------------------------------------
    def compose(self, problem: Problem, aid: str | None, slots: Slots, channel: str):
        rng = self.rng
        subject = slots.fill(rng.choice(problem.subjects))
        core = slots.fill(rng.choice(problem.bodies))
        weights = dict(STYLE_WEIGHTS[channel])
        if problem.tier == L2 and "angry" in weights:
            weights["angry"] *= 1.6
        style = _weighted(rng, weights)
        second = None
        if style != "oneliner" and rng.random() < MIX_SHARE:
            second = self.secondary_problem(aid or "reset-password")
            core += "\n\n" + rng.choice(MIX_PREFIXES) + lcfirst(slots.fill(rng.choice(second.bodies)))
            if rng.random() < 0.3:
                subject = rng.choice(["Two issues", "A couple of questions", "Few problems"]) + ": " + subject
        if style == "nonnative":
            core = nonnative(core, rng)
            if rng.random() < 0.4:
                subject = rng.choice(["Regarding ", "Issue regarding ", "Query: "]) + lcfirst(subject)
        if style == "angry":
            r = rng.random()
            if r < 0.25:
                subject = subject.upper()
            elif r < 0.5:
                subject = "URGENT: " + subject
            elif r < 0.7:
                subject += "!!!"

        if channel == "phone":
            body = self._phone_body(core, style, slots)
            subject = rng.choice(["Phone: " + subject, "Call - " + lcfirst(subject), subject])
        elif channel == "chat":
            body, subject = self._chat_body(core, subject, style, slots)
        else:
            body, subject = self._written_body(core, subject, style, slots, channel)
        return subject, body, style, second

    def _written_body(self, core, subject, style, slots, channel):
        rng, fill = self.rng, slots.fill
        if style == "oneliner":
            body = one_liner(subject, rng)
            subject = rng.choice([subject, subject, "help", "urgent", "question", "problem", "(no subject)", body])
        elif style == "polite":
            ask = rng.choice(POLITE_ASKS)
            body = f"{rng.choice(GREETINGS)}\n\n{core}{(' ' + ask) if ask else ''}\n\n{fill(rng.choice(CLOSINGS))}"
        elif style == "terse":
            body = core + (("\n" + fill(rng.choice(["- {first}", "{first}", "Thx, {first}"]))) if rng.random() < 0.4 else "")
        elif style == "angry":
            addons = ANGRY_ADDONS_FREE if slots["plan_name"] == "Free" else ANGRY_ADDONS_PAID
            body = (f"{rng.choice(ANGRY_OPENERS)} {core}\n\n{fill(rng.choice(addons))}\n\n"
                    f"{fill(rng.choice(ANGRY_CLOSINGS))}")
        elif style == "rambling":
            ctx = rng.sample(RAMBLE_CONTEXT, 3)
            body = (f"{rng.choice(GREETINGS)}\n\n{fill(ctx[0])} {fill(ctx[1])}\n\n{core}\n\n{fill(ctx[2])} "
                    f"{rng.choice(RAMBLE_AFTERTHOUGHTS)}\n\n{fill(rng.choice(CLOSINGS))}")
        else:  # nonnative
            body = (f"{rng.choice(NONNATIVE_OPENERS)}\n\n{core} {rng.choice(NONNATIVE_CLOSERS)}\n\n"
                    f"Regards,\n{fill('{first} {last}')}")
        if channel == "web" and style != "oneliner" and rng.random() < 0.35:
            header = fill("Workspace: {company}\nBrowser: {browser}\n")
            body = header + "Description:\n" + body
        return body, subject

    def _chat_body(self, core, subject, style, slots):
        rng = self.rng
        lines = []
        if style != "terse" and rng.random() < 0.6:
            lines.append(rng.choice(CHAT_OPENERS))
        if style == "oneliner":
            lines.append(one_liner(subject, rng))
        else:
            if style == "angry":
                lines.append(rng.choice(ANGRY_OPENERS))
            elif style == "rambling":
                lines.append(slots.fill(rng.choice(RAMBLE_CONTEXT)))
            lines.extend(s for part in core.split("\n\n") for s in split_sentences(part))
            if style == "angry":
                lines.append("this is really frustrating")
        if rng.random() < 0.3:
            lines.append(rng.choice(CHAT_TAILS))
        if style == "terse" and rng.random() < 0.4:
            lines = [ln.lower() for ln in lines]
        if rng.random() < 0.5:
            who = slots["first"]
            lines = [f"{who}: {ln}" for ln in lines]
        r = rng.random()
        if r < 0.3:
            subject = slots.fill(rng.choice(["Chat with {first}", "Live chat conversation",
                                             "New conversation from {first} {last}"]))
        return "\n".join(lines), subject

    def _phone_body(self, core, style, slots):
        rng, fill = self.rng, slots.fill
        head = fill("Inbound call from {first} {last} ({company}, {plan_name} plan).")
        note = rng.choice(PHONE_NOTES)
        if style == "angry":
            note = "Caller was frustrated and asked for escalation. " + note
        elif style == "terse":
            return f"{head}\nCaller reports: {core.split(chr(10))[0]}"
        return f"{head}\nCaller reports: \"{core}\"\n\nAgent notes: {note}"

    # -- one ticket ----------------------------------------------------------
    def make_ticket(self, kind: "str | Gap") -> dict:
        """One ticket: ``kind`` is "kb" (a problem some article covers) or the Gap it is about."""
        rng = self.rng
        if isinstance(kind, Gap):
            gap = kind
            aid, problem, category, gap_key = None, gap.problem, gap.category, gap.key
        else:
            aid, problem = rng.choices(self.kb_items, cum_weights=self.kb_cum)[0]
            category, gap_key = self.articles[aid].category, ""
        plan = self.sample_plan(problem.plans)
        created = self.sample_created(problem.incidents)
        channel = _weighted(rng, CHANNEL_WEIGHTS[plan])
        slots = Slots(rng, plan, created)
        subject, body, style, second = self.compose(problem, aid, slots, channel)

        typos = rng.random() < TYPO_SHARE
        if typos:
            body = add_typos(body, rng, rng.uniform(0.04, 0.09))
            if rng.random() < 0.5:
                subject = add_typos(subject, rng, 0.12)

        # Tier follows from what the problem needs (see PROBLEMS); a ticket that
        # also raises a second, L2 problem needs L2 as well.
        tier = problem.tier
        article_id = aid or ""
        escalated = False
        if aid:
            # L2 work is mostly done by specialists without an article; the article
            # stays linked only where it documented part of the fix (problem.kb).
            if problem.tier == L2 and rng.random() >= problem.kb:
                article_id, escalated = "", True
            elif rng.random() < ALT_ARTICLE_SHARE:
                others = [a for a in self.by_category[category] if a != aid]
                article_id = rng.choice(others)
        elif rng.random() < GAP_L1_SHARE:
            tier = L1  # no article, but L1 answered it (workaround given, feature request logged)
        if second is not None and second.tier == L2:
            tier = L2
        if rng.random() < LABEL_NOISE:
            category = rng.choice(CONFUSABLE[category])

        return {
            "subject": subject, "body": body, "channel": channel, "plan": plan,
            "created": created, "category": category, "tier": tier, "article_id": article_id,
            # bookkeeping only (not written to the CSV)
            "_gap": gap_key, "_escalated": escalated, "_typos": typos, "_mixed": second is not None,
            "_style": style, "_tier_noise": False,
        }

    def generate(self, n_tickets: int) -> list[dict]:
        n_gap = round(n_tickets * GAP_SHARE)
        # Uncovered themes get counts proportional to their weights (largest remainder), so the
        # content-gap ground truth doesn't depend on the luck of the draw.
        total = sum(g.weight for g in GAPS)
        quotas = [n_gap * g.weight / total for g in GAPS]
        counts = [int(q) for q in quotas]
        by_remainder = sorted(range(len(GAPS)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[:n_gap - sum(counts)]:
            counts[i] += 1
        kinds = [g for g, c in zip(GAPS, counts) for _ in range(c)] + ["kb"] * (n_tickets - n_gap)
        self.rng.shuffle(kinds)
        tickets = [self.make_ticket(kind) for kind in kinds]
        # Label noise on the tier: agents don't always agree on L1 vs L2. The flipped tickets are
        # drawn at random within each category, TIER_NOISE of each.
        for c in CATEGORIES:
            members = [i for i, t in enumerate(tickets) if t["category"] == c]
            for i in sorted(self.rng.sample(members, round(len(members) * TIER_NOISE))):
                tickets[i]["tier"] = L1 if tickets[i]["tier"] == L2 else L2
                tickets[i]["_tier_noise"] = True
        tickets.sort(key=lambda t: t["created"])  # stable: ties keep generation order
        for i, t in enumerate(tickets):
            t["ticket_id"] = f"T-{10001 + i}"
            t["created_at"] = t["created"].strftime("%Y-%m-%dT%H:%M:%SZ")
        return tickets


# ---------------------------------------------------------------------------
# Validation, writers and summary
# ---------------------------------------------------------------------------

CSV_COLUMNS = ["ticket_id", "subject", "body", "channel", "plan", "created_at", "category", "tier", "article_id"]


def validate_content() -> None:
    """Fail loudly if the hand-written content tables are inconsistent."""
    errors = []
    ids = [a.id for a in ARTICLES]
    if len(ids) != len(set(ids)):
        errors.append("duplicate article ids")
    for a in ARTICLES:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", a.id):
            errors.append(f"{a.id}: id is not a lowercase slug")
        if a.category not in CATEGORIES:
            errors.append(f"{a.id}: unknown category {a.category}")
        if ":" in a.title or a.title[0] in "\"'[{#&*!|>%@`":
            errors.append(f"{a.id}: title would need YAML quoting")
        words = len(a.body.split())
        if not 150 <= words <= 500:
            errors.append(f"{a.id}: body has {words} words (want 150-500)")
        if "## If this doesn't help" not in a.body:
            errors.append(f"{a.id}: missing 'If this doesn't help' section")
        if a.id not in PROBLEMS:
            errors.append(f"{a.id}: no ticket problems defined")
    for c in CATEGORIES:
        if sum(a.category == c for a in ARTICLES) < 5:
            errors.append(f"category {c} has fewer than 5 articles")
    for aid in PROBLEMS:
        if aid not in set(ids):
            errors.append(f"problems defined for unknown article {aid}")
    for g in GAPS:
        if g.category not in CATEGORIES:
            errors.append(f"gap {g.key}: unknown category")
    templates = [(f"{aid}[{i}]", p) for aid in sorted(PROBLEMS) for i, p in enumerate(PROBLEMS[aid])]
    templates += [(f"gap {g.key}", g.problem) for g in GAPS]
    for name, p in templates:
        if p.tier not in (L1, L2):
            errors.append(f"{name}: tier must be L1 or L2, not {p.tier!r}")
        if not 0.0 <= p.kb <= 1.0:
            errors.append(f"{name}: kb must be between 0 and 1")
        for text in list(p.subjects) + list(p.bodies):
            for _, field, _, _ in string.Formatter().parse(text):
                if field is not None and field not in SLOT_GENERATORS and field != "plan_name":
                    errors.append(f"{name}: unknown slot {{{field}}}")
    for c in CATEGORIES:
        tiers = {p.tier for a in ARTICLES if a.category == c for p in PROBLEMS.get(a.id, [])}
        if tiers != {L1, L2}:
            errors.append(f"category {c}: needs both L1 and L2 problems")
    if errors:
        raise SystemExit("content validation failed:\n  " + "\n  ".join(errors))


def write_articles(out_dir: Path) -> None:
    art_dir = out_dir / "articles"
    art_dir.mkdir(parents=True, exist_ok=True)
    for stale in sorted(art_dir.glob("*.md")):  # keep the folder in sync with ARTICLES
        stale.unlink()
    for a in ARTICLES:
        text = (f"---\nid: {a.id}\ntitle: {a.title}\ncategory: {a.category}\n"
                f"tags: [{', '.join(a.tags)}]\n---\n# {a.title}\n\n{a.body}\n")
        (art_dir / f"{a.id}.md").write_text(text, encoding="utf-8", newline="\n")


def write_tickets(out_dir: Path, tickets: list[dict]) -> None:
    with open(out_dir / "tickets.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for t in tickets:
            writer.writerow([t[c] for c in CSV_COLUMNS])


def summarize(tickets: list[dict]) -> dict:
    n = len(tickets)
    by_cat = Counter(t["category"] for t in tickets)
    l2_by_cat = Counter(t["category"] for t in tickets if t["tier"] == "L2")
    tiers = Counter(t["tier"] for t in tickets)
    no_article = sum(1 for t in tickets if not t["article_id"])
    gaps = Counter(t["_gap"] for t in tickets if t["_gap"])
    resolved = [t for t in tickets if t["article_id"]]
    return {
        "n": n, "by_cat": by_cat, "l2_by_cat": l2_by_cat, "tiers": tiers, "no_article": no_article,
        "gap_total": sum(gaps.values()), "gaps": gaps,
        "gap_l2": sum(1 for t in tickets if t["_gap"] and t["tier"] == "L2"),
        "resolved": len(resolved), "resolved_l1": sum(1 for t in resolved if t["tier"] == "L1"),
        "tier_noise": sum(1 for t in tickets if t["_tier_noise"]),
        "escalated": sum(1 for t in tickets if t["_escalated"]),
        "typos": sum(1 for t in tickets if t["_typos"]),
        "mixed": sum(1 for t in tickets if t["_mixed"]),
        "channels": Counter(t["channel"] for t in tickets),
        "plans": Counter(t["plan"] for t in tickets),
        "first": tickets[0]["created_at"] if tickets else "", "last": tickets[-1]["created_at"] if tickets else "",
    }


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


def write_readme(out_dir: Path, stats: dict, seed: int, n_tickets: int) -> None:
    n = stats["n"]
    arts = Counter(a.category for a in ARTICLES)
    cmd = "python scripts/make_demo_data.py --seed " + str(seed)
    if n_tickets != 2400:
        cmd += f" --tickets {n_tickets}"
    lines = [
        "# kb-triage demo data",
        "",
        f"A synthetic help desk for **{PRODUCT}**, a fictional team-workspace / project-management SaaS product "
        "(boards, cards, docs, automations, integrations, mobile and desktop apps). Every article, ticket, "
        "person and company in this folder is made up.",
        "",
        f"Generated by `{cmd}`. The generator is deterministic: the same arguments reproduce these files "
        "byte for byte. Do not edit them by hand; change the script and re-run it.",
        "",
        "## Files",
        "",
        f"- `articles/<id>.md`: {len(ARTICLES)} knowledge-base articles, Markdown with front matter "
        "(`id`, `title`, `category`, `tags`).",
        f"- `tickets.csv`: {n:,} past tickets from {stats['first'][:10]} to {stats['last'][:10]}, columns "
        "`" + ",".join(CSV_COLUMNS) + "`. `article_id` is the article that resolved the ticket, "
        "or empty when none did.",
        "",
        "## Counts per category",
        "",
        "| category | articles | tickets | L2 share |",
        "|---|---:|---:|---:|",
    ]
    for c in CATEGORIES:
        lines.append(f"| {c} | {arts[c]} | {stats['by_cat'][c]} | {_pct(stats['l2_by_cat'][c], stats['by_cat'][c])} |")
    lines.append(f"| **total** | {len(ARTICLES)} | {n} | {_pct(stats['tiers']['L2'], n)} |")
    lines += [
        "",
        "## Tiers",
        "",
        f"- L1: {stats['tiers']['L1']} ({_pct(stats['tiers']['L1'], n)}), "
        f"L2: {stats['tiers']['L2']} ({_pct(stats['tiers']['L2'], n)}).",
        "- Tier follows from what the ticket needs. **L1** when a KB article or standard procedure resolves it: "
        "how-to questions, settings, documented error codes, password resets, plan and invoice questions. "
        "**L2** when it needs a specialist, engineering or a privileged action: confirmed bugs, outages, data "
        "loss, security incidents, refund disputes, API 5xx errors, SSO problems that need debugging with the "
        "customer's identity-provider admin, contract and legal requests, and needs no article covers.",
        "- Every problem template has a definite tier, and L2 texts show why (error codes, \"since the update\", "
        "\"all users affected\", \"the data is gone\", \"charged twice\", \"security\"), while L1 texts read as "
        "how-to or can't-find-it questions. Bugs, performance and API lean L2; sign-in, notifications and "
        "mobile lean L1.",
        "- A ticket that mentions a second problem is L2 when either problem is. "
        f"{_pct(stats['gap_l2'], stats['gap_total'])} of the tickets about uncovered needs are L2 (L1 closed the "
        "rest with a workaround or a logged feature request).",
        f"- Of the {stats['resolved']:,} tickets resolved by an article, {_pct(stats['resolved_l1'], stats['resolved'])} "
        "are L1. L2 tickets mostly have no `article_id`, or one that only partly helped.",
        f"- Label noise: {stats['tier_noise']} tier labels ({_pct(stats['tier_noise'], n)}) are deliberately flipped, "
        "because agents don't always agree on the tier.",
        "",
        "## Tickets without an article",
        "",
        f"- {stats['no_article']} tickets ({_pct(stats['no_article'], n)}) have an empty `article_id`.",
        f"- {stats['gap_total']} of them ({_pct(stats['gap_total'], n)} of all tickets) are about needs no "
        f"article covers, in {len(GAPS)} recurring themes (ground truth for content-gap reports):",
    ]
    for g in GAPS:
        lines.append(f"  - `{g.key}` ({g.category}): {stats['gaps'][g.key]} tickets")
    lines += [
        f"- The other {stats['escalated']} are L2 escalations (bugs, outages, data loss, refunds, security and "
        "similar) that specialists resolved without an article.",
        "",
        "## Realism and noise",
        "",
        f"- About {_pct(stats['typos'], n)} of tickets contain typos and {_pct(stats['mixed'], n)} mention a "
        "second, unrelated problem (labelled with the main one).",
        "- Tones range from polite to angry, terse, rambling, one-liners and non-native phrasing; chat and "
        "phone tickets are transcripts and agent notes.",
        f"- Roughly {LABEL_NOISE:.1%} of category labels are deliberately noisy, and about "
        f"{ALT_ARTICLE_SHARE:.1%} of tickets were resolved with a less obvious article from the same category.",
        "",
    ]
    (out_dir / "README.md").write_text("\n".join(lines), encoding="utf-8", newline="\n")


def print_summary(stats: dict) -> None:
    n = stats["n"]
    arts = Counter(a.category for a in ARTICLES)
    print(f"articles: {len(ARTICLES)}   tickets: {n}   ({stats['first']} .. {stats['last']})")
    print(f"{'category':<18}{'articles':>9}{'tickets':>9}{'L2':>8}")
    for c in CATEGORIES:
        print(f"{c:<18}{arts[c]:>9}{stats['by_cat'][c]:>9}{_pct(stats['l2_by_cat'][c], stats['by_cat'][c]):>8}")
    print(f"tiers: L1 {stats['tiers']['L1']} ({_pct(stats['tiers']['L1'], n)}), "
          f"L2 {stats['tiers']['L2']} ({_pct(stats['tiers']['L2'], n)}); "
          f"resolved by an article: {stats['resolved']} ({_pct(stats['resolved_l1'], stats['resolved'])} L1); "
          f"uncovered themes L2: {_pct(stats['gap_l2'], stats['gap_total'])}; tier labels flipped: {stats['tier_noise']}")
    print(f"without article: {stats['no_article']} ({_pct(stats['no_article'], n)}); "
          f"uncovered themes: {stats['gap_total']} ({_pct(stats['gap_total'], n)}), "
          f"L2 escalations without article: {stats['escalated']}")
    print("gap themes: " + ", ".join(f"{g.key}={stats['gaps'][g.key]}" for g in GAPS))
    print("channels: " + ", ".join(f"{k}={stats['channels'][k]}" for k in CHANNELS)
          + "   plans: " + ", ".join(f"{k}={stats['plans'][k]}" for k in PLANS))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="kb/demo_data", help="output folder (default: kb/demo_data)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument("--tickets", type=int, default=2400, help="number of tickets (default: 2400)")
    args = parser.parse_args(argv)
    if args.tickets < 1:
        parser.error("--tickets must be positive")

    validate_content()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    tickets = TicketGenerator(args.seed).generate(args.tickets)
    write_articles(out_dir)
    write_tickets(out_dir, tickets)
    stats = summarize(tickets)
    write_readme(out_dir, stats, args.seed, args.tickets)
    print_summary(stats)
    print(f"wrote {out_dir}/articles/*.md, {out_dir}/tickets.csv, {out_dir}/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
