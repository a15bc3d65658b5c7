"""Accounts on the web: who is calling (every request), sign-in and sign-out, the account page, the
administrators' page. See docs/access.md.

Every request gets a :class:`~dfl_graph.accounts.visibility.Caller` (:func:`caller`), from an
``Authorization: Bearer`` API token or the session cookie; without either it is anonymous. A token that is
malformed, unknown, expired or revoked is answered 401 with the reason: a client that thinks it is signed
in must not silently get the public view. Sessions are signed cookies (HttpOnly, SameSite=Lax, Secure when
the base is https) that carry only a random session id, whose hash the accounts database keeps, so signing
out or disabling an account ends a session at once.

Sign-in is password-less: a single-use link mailed to the address (its secret travels in the URL's
fragment, which browsers never send, so it reaches no server log or Referer header), or an OpenID Connect
provider (Authlib) when one is configured. Both are rate-limited across workers. Every form here carries a
CSRF token (Flask-WTF); API tokens are never accepted by the forms, cookies never by write APIs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, redirect, render_template, request, session
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized

from dfl_graph.accounts import ANONYMOUS, AccessError, Caller, Directory, InvalidCredentials, open_directory, rate_limit
from dfl_graph.accounts import audit as audit_journal
from dfl_graph.accounts.directory import SESSION_HOURS, normal_email
from dfl_graph.accounts.mail import MailError, mail_sender, message
from dfl_graph.accounts.model import Role, Scope
from dfl_graph.accounts.provenance import audit_nquads
from dfl_graph.config import Settings

blueprint = Blueprint("accounts", __name__)
csrf = CSRFProtect()
SESSION_COOKIE = "dfl_session"
SECRET_KEY_FILE = "secret-key"


def caller() -> Caller:
    """The caller of the current request (anonymous outside a request, or before identification)."""
    return g.get("dfl_caller", ANONYMOUS)


def directory() -> Directory:
    return current_app.extensions["dfl.accounts"]


def _settings() -> Settings:
    return current_app.extensions["dfl.settings"]


def secret_key(data_dir: Path) -> bytes:
    """The key that signs session cookies and CSRF tokens: made once per data directory (mode 0600) and
    shared by every worker. Written under a temporary name and linked into place, so a worker never reads
    a half-written key and two workers starting together agree on one."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".secret-key-")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text().strip().encode()


@blueprint.record_once
def _set_up(state) -> None:
    """Sessions, CSRF, the directory and (when configured) the OpenID Connect client, for the whole app."""
    app: Flask = state.app
    settings: Settings = app.extensions["dfl.settings"]
    app.secret_key = secret_key(settings.data_dir)
    app.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # sent on the provider's redirect back (a top-level GET), not cross-site POSTs
        SESSION_COOKIE_SECURE=settings.uris.base.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        SESSION_REFRESH_EACH_REQUEST=False,  # the session ends when its database row does: no re-signing per request
        WTF_CSRF_CHECK_DEFAULT=False,  # forms of this blueprint call csrf.protect(); APIs take no cookies
    )
    csrf.init_app(app)
    app.extensions["dfl.accounts"] = open_directory(settings)
    if settings.oidc_issuer:
        from authlib.integrations.flask_client import OAuth

        oauth = OAuth(app)
        oauth.register(
            "oidc",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile"},
        )
        app.extensions["dfl.oidc"] = oauth.oidc
    app.before_request(identify_caller)
    app.after_request(keep_private)


def identify_caller() -> None:
    """Sets ``g.dfl_caller`` from the bearer token or the session cookie (see the module docstring)."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("invalid_request", "only Authorization: Bearer <API token> is accepted here")
        try:
            g.dfl_caller = directory().caller_for_token(value.strip())
        except InvalidCredentials as error:
            raise _unauthorized("invalid_token", str(error)) from None
        return
    if SESSION_COOKIE in request.cookies:
        sid = session.get("sid")
        found = directory().caller_for_session(sid) if sid else None
        if found is None and sid:
            session.clear()  # ended or expired: drop it rather than ask the database again on every request
        g.dfl_caller = found or ANONYMOUS
        return
    g.dfl_caller = ANONYMOUS


def keep_private(response: Response) -> Response:
    """A response computed for a caller who sees more than the public is that caller's alone: ``private`` (no
    shared cache may keep it) and ``Vary: Authorization, Cookie`` (no cache may answer another caller with it).
    Public callers' responses are left as the view made them."""
    if caller().visibility.public_only:
        return response
    if not response.cache_control.no_store:
        response.cache_control.public = False
        response.cache_control.private = True
    response.vary.update(("Authorization", "Cookie"))
    return response


def _unauthorized(code: str, description: str) -> Unauthorized:
    challenge = WWWAuthenticate("bearer", {"realm": "Data for London", "error": code})
    return Unauthorized(f"{description}.", www_authenticate=challenge)


def _limit(limit: rate_limit.Limit, key: str) -> None:
    wait = rate_limit.hit(directory().database, limit, key)
    if wait is not None:
        raise TooManyRequests(f"Too many sign-in attempts: try again in {wait} seconds.", retry_after=wait)


def _limit_client() -> None:
    _limit(rate_limit.login_per_client(_settings().login_attempts_per_client), request.remote_addr or "")


def _page(template: str, status: int = 200, **context) -> Response:
    response = Response(render_template(template, caller=caller(), **context), status=status)
    response.headers["Cache-Control"] = "no-store"  # personal, and sometimes a secret shown once
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the forms
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def _signed_in() -> Caller:
    """The caller of a form that needs a signed-in person (a session; never an API token)."""
    current = caller()
    if current.anonymous or current.via != "session":
        raise Unauthorized("Sign in first (on /account).")
    return current


def _administrator() -> Caller:
    current = _signed_in()
    if not current.visibility.administrator:
        raise Forbidden("This page is for administrators.")
    return current


def _start_session(account, method: str) -> Response:
    sid = directory().start_session(account, method)
    session.clear()  # a fresh session (and CSRF token) at every sign-in: no fixation
    session["sid"] = sid
    session.permanent = True
    return redirect(_settings().uris.base + "/account", code=303)


# -- sign-in --------------------------------------------------------------------------------------------
@blueprint.get("/account")
def account_page() -> Response:
    current = caller()
    if current.anonymous:
        return _page(
            "accounts/sign-in.html",
            mail_enabled=mail_sender(_settings()) is not None,
            oidc_label=_settings().oidc_label if "dfl.oidc" in current_app.extensions else None,
        )
    found = directory().account(current.account)
    return _page(
        "accounts/account.html",
        account=found,
        grants=directory().grants_for(found),
        tokens=directory().tokens(found),
        organisations=directory().organisations,
    )


@blueprint.post("/account/login/email")
def request_login_link() -> Response:
    csrf.protect()
    _limit_client()
    sender = mail_sender(_settings())
    if sender is None:
        raise ServiceUnavailable("Sign-in by e-mail is not set up on this server.")
    try:
        address = normal_email(request.form.get("email", ""))
    except AccessError as error:
        raise BadRequest(str(error)) from None
    _limit(rate_limit.LOGIN_LINK_PER_EMAIL, address)
    link_secret = directory().issue_login_link(address)
    link = f"{_settings().uris.base}/account/login/link#{link_secret}"
    text = render_template("accounts/login-mail.txt", link=link, code=link_secret, minutes=15)
    try:
        sender.send(message(_settings(), address, "Sign in to Data for London", text))
    except MailError as error:
        current_app.logger.error("sign-in mail not sent: %s", error)
        raise ServiceUnavailable("The sign-in mail could not be sent; please try again later.") from None
    return _page("accounts/link-sent.html", address=address)


@blueprint.get("/account/login/link")
def login_link_page() -> Response:
    return _page("accounts/link.html")


@blueprint.post("/account/login/link")
def use_login_link() -> Response:
    csrf.protect()
    _limit_client()
    try:
        found = directory().consume_login_link(request.form.get("code", ""))
        return _start_session(found, "email")
    except InvalidCredentials as error:
        return _page("accounts/link.html", status=400, error=str(error))


@blueprint.get("/account/login/oidc")
def oidc_start() -> Response:
    client = current_app.extensions.get("dfl.oidc")
    if client is None:
        raise NotFound("Sign-in with an OpenID Connect provider is not set up on this server.")
    _limit_client()
    try:
        return client.authorize_redirect(_settings().uris.base + "/account/login/oidc/callback")
    except OSError as error:
        raise ServiceUnavailable(f"The sign-in provider cannot be reached ({type(error).__name__}).") from None


@blueprint.get("/account/login/oidc/callback")
def oidc_callback() -> Response:
    from authlib.integrations.base_client import OAuthError

    client = current_app.extensions.get("dfl.oidc")
    if client is None:
        raise NotFound("Sign-in with an OpenID Connect provider is not set up on this server.")
    try:
        token = client.authorize_access_token()
    except OAuthError as error:
        raise BadRequest(f"Sign-in with the provider failed: {error.error}.") from None
    except OSError as error:
        raise ServiceUnavailable(f"The sign-in provider cannot be reached ({type(error).__name__}).") from None
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not email or claims.get("email_verified") is not True:
        raise Forbidden("The sign-in provider did not vouch for an e-mail address (email_verified): cannot sign in.")
    try:
        found = directory().ensure_account(email, name=claims.get("name"))
        return _start_session(found, "oidc")
    except (AccessError, InvalidCredentials) as error:
        raise Forbidden(str(error)) from None


@blueprint.post("/account/logout")
def logout() -> Response:
    csrf.protect()
    sid = session.get("sid")
    if sid:
        directory().end_session(sid)
    session.clear()
    return redirect(_settings().uris.base + "/", code=303)


# -- API tokens of the signed-in account ----------------------------------------------------------------
@blueprint.post("/account/tokens")
def create_token() -> Response:
    csrf.protect()
    current = _signed_in()
    found = directory().account(current.account)
    try:
        days = int(request.form.get("days") or 90)
        issued = directory().issue_token(found, request.form.get("label", ""), request.form.get("scope", "read"), days)
    except (AccessError, ValueError) as error:
        raise BadRequest(str(error)) from None
    return _page("accounts/token-created.html", issued=issued)


@blueprint.post("/account/tokens/<token_id>/revoke")
def revoke_own_token(token_id: str) -> Response:
    csrf.protect()
    current = _signed_in()
    token = directory().token(token_id)
    if token is None or token.account != current.account:
        raise NotFound("No such token of yours.")
    directory().revoke_token(token_id, current.agent)
    return redirect(_settings().uris.base + "/account", code=303)


# -- administrators -------------------------------------------------------------------------------------
@blueprint.get("/admin")
def admin_page() -> Response:
    _administrator()
    found = directory()
    return _page(
        "accounts/admin.html",
        accounts=found.accounts(),
        grants=found.grants(include_revoked=True),
        tokens=found.tokens(),
        events=found.audit_events(limit=200),
        unpublished=len(audit_journal.events(found.db, unpublished=True)),
        organisations=found.organisations,
        roles=[r.value for r in Role],
        scopes=[s.value for s in Scope],
    )


@blueprint.post("/admin/grants")
def admin_add_grant() -> Response:
    csrf.protect()
    current = _administrator()
    form = request.form
    subject = (form.get("subject") or "").strip()
    try:
        directory().add_grant(
            current.agent,
            form.get("role", ""),
            account=subject if "@" in subject and not subject.startswith("@") else None,
            domain=subject if subject and ("@" not in subject or subject.startswith("@")) else None,
            organisation=form.get("organisation") or None,
            reason=form.get("reason"),
        )
    except AccessError as error:
        raise BadRequest(str(error)) from None
    return redirect(_settings().uris.base + "/admin", code=303)


@blueprint.post("/admin/grants/<grant_id>/revoke")
def admin_revoke_grant(grant_id: str) -> Response:
    csrf.protect()
    current = _administrator()
    try:
        directory().revoke_grant(grant_id, current.agent)
    except AccessError as error:
        raise NotFound(str(error)) from None
    return redirect(_settings().uris.base + "/admin", code=303)


@blueprint.post("/admin/accounts/<account_id>/<any(disable, enable):change>")
def admin_disable_account(account_id: str, change: str) -> Response:
    csrf.protect()
    current = _administrator()
    if account_id == current.account:
        raise BadRequest("An administrator cannot disable their own account here (use `dfl accounts disable`).")
    try:
        directory().set_disabled(account_id, change == "disable", current.agent)
    except AccessError as error:
        raise NotFound(str(error)) from None
    return redirect(_settings().uris.base + "/admin", code=303)


@blueprint.post("/admin/tokens/<token_id>/revoke")
def admin_revoke_token(token_id: str) -> Response:
    csrf.protect()
    current = _administrator()
    try:
        directory().revoke_token(token_id, current.agent)
    except AccessError as error:
        raise NotFound(str(error)) from None
    return redirect(_settings().uris.base + "/admin", code=303)


@blueprint.get("/admin/audit.<any(json, nq):suffix>")
def admin_audit_export(suffix: str) -> Response:
    """The audit journal (optionally one actor's: ``?actor=<account id>``) as JSON or PROV N-Quads."""
    _administrator()
    events = directory().audit_events(actor=request.args.get("actor") or None)
    if suffix == "json":
        body = current_app.json.dumps({"events": [e.to_json() for e in events]})
        response = Response(body, content_type="application/json")
    else:
        response = Response(audit_nquads(_settings().uris, events), content_type="application/n-quads")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = f'attachment; filename="audit.{suffix}"'
    return response


__all__ = ["blueprint", "caller", "csrf", "directory", "identify_caller"]
