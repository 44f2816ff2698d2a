"""Signing in and out: what the sign-in throttle (django-axes) shows a locked-out person,
the sign-in events of the audit log, and "sign out everywhere".

Axes counts failed sign-ins per account and per address (settings: SIGN_IN_FAILURE_LIMIT,
SIGN_IN_LOCKOUT_MINUTES); once either is locked, the right password is refused too until
the lock ends, and the sign-in page says so.
"""

from __future__ import annotations

import datetime
from importlib import import_module

from axes.helpers import get_cool_off
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from . import audit
from .models import AccountSession, AuditEvent


def typed_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a sign-in is for, as axes counts it: "Alice" and "alice " are one."""
    username = (credentials or {}).get("username")
    if username is None:
        username = request.POST.get("username")
    return username.strip().lower() if isinstance(username, str) else None


def lockout_minutes(request: HttpRequest | None = None) -> int:
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    return max(1, round(cool_off.total_seconds() / 60))


def lockout_message(request: HttpRequest | None = None) -> str:
    minutes = lockout_minutes(request)
    return ngettext(
        "Too many failed sign-ins. Signing in to this account or from this address is paused for up to %(minutes)s minute, even with the right password.",
        "Too many failed sign-ins. Signing in to this account or from this address is paused for up to %(minutes)s minutes, even with the right password.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What axes answers a sign-in it refused: the sign-in page, saying why (429)."""
    username = request.POST.get("username", "") if request.method == "POST" else ""
    form = AuthenticationForm(request, initial={"username": username})
    context = {"form": form, "locked_out": lockout_message(request), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


# --- the audit log's sign-in events ------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="journeymap-signed-in")
def _signed_in(sender, request, user, **kwargs) -> None:
    audit.record(AuditEvent.SIGN_IN, user=user)
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        _remember_session(user, request.session.session_key)


@receiver(user_login_failed, dispatch_uid="journeymap-sign-in-failed")
def _sign_in_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    typed = str((credentials or {}).get("username") or "")
    audit.record(AuditEvent.SIGN_IN_FAILED, user=audit.account_of(typed), username=typed)


@receiver(user_locked_out, dispatch_uid="journeymap-locked-out")
def _locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """Axes says so at the failure that locks and again at each try refused while locked:
    the log keeps one event per lock."""
    typed = str(username or "")
    since = timezone.now() - (get_cool_off(request) or datetime.timedelta(0))
    if AuditEvent.objects.filter(
        kind=AuditEvent.LOCKED_OUT, data__lock=typed, address=ip_address, created__gte=since
    ).exists():
        return
    as_typed = str((request.POST.get("username") if request is not None else "") or typed)
    audit.record(AuditEvent.LOCKED_OUT, user=audit.account_of(as_typed), username=as_typed, lock=typed)


@receiver(user_logged_out, dispatch_uid="journeymap-signed-out")
def _signed_out(sender, request, user, **kwargs) -> None:
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        AccountSession.objects.filter(session_key=request.session.session_key).delete()


# --- sign out everywhere ----------------------------------------------------------------------


def _remember_session(user, session_key: str) -> None:
    AccountSession.objects.update_or_create(session_key=session_key, defaults={"user": user})
    # Sessions past their age have ended by themselves.
    too_old = timezone.now() - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    AccountSession.objects.filter(user=user, created__lt=too_old).delete()


def change_password(request: HttpRequest, form: PasswordChangeForm) -> None:
    """Save a valid password change: this session stays signed in, every other one ends
    (Django checks each session against the password it was signed in with)."""
    user = form.save()
    old_key = request.session.session_key
    update_session_auth_hash(request, user)  # gives this session a new key
    AccountSession.objects.filter(user=user).exclude(session_key=old_key).delete()
    AccountSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
    audit.record(AuditEvent.PASSWORD_CHANGED, user=user)


def sign_out_everywhere(request: HttpRequest) -> int:
    """End every session the signed-in person has, this one too; how many there were."""
    user = request.user
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(AccountSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    AccountSession.objects.filter(user=user).delete()
    audit.record(AuditEvent.SIGNED_OUT_EVERYWHERE, user=user, sessions=len(keys))
    logout(request)
    return len(keys)
