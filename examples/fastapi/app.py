"""A FastAPI backend with the OAuth2 contract tokenflight is built for, done right.

Reference contract (the default):
  POST /token     OAuth2PasswordRequestForm -> {access_token, refresh_token, token_type, expires_in}
  POST /refresh   JSON {"refresh_token"} or form grant_type=refresh_token -> a new pair; the old
                  refresh token goes on a jti denylist, and replaying it revokes its whole family
  POST /logout    revokes the family of the refresh token in the body (or of the Bearer access
                  token), even when the access token has expired
  GET  /me, GET|POST /todos, GET|PATCH|DELETE /todos/{id}   protected by a Bearer access token

The well-known tutorials' variants are settings (see Settings and CONTRACTS): the refresh token as
a query parameter, no expires_in, 401/403 on a bad login, a JSON refresh that returns only
access_token, no /logout. Test hooks live under /__admin and exist only with `admin=True`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from jose import JWTError, jwt
from pydantic import BaseModel, constr

ALGORITHM = "HS256"
PROTECTED = ("/me", "/todos")


@dataclass(frozen=True)
class Settings:
    access_ttl: int = 900
    """Seconds an access token lives."""
    refresh_ttl: int = 7 * 24 * 3600
    """Seconds a login's refresh-token family lives (absolute: rotation does not extend it)."""
    refresh_token_in: str = "body"
    """'body': JSON {"refresh_token"} or a grant_type=refresh_token form. 'query': the tutorials'
    `def refresh(refresh_token: str)`, which FastAPI reads from the query string (so it lands in
    access logs) and answers 422 when it is missing."""
    expires_in: str = "all"
    """Which answers carry expires_in: 'all', 'token' (login only) or 'none'."""
    refresh_returns: str = "pair"
    """'pair': a new access and refresh token, the old refresh token rotated out. 'access': only
    {"access_token", "token_type"}; the refresh token stays valid until it expires."""
    bad_login_status: int = 400
    """400: RFC 6749 invalid_grant. 401 or 403: the tutorials' HTTPException."""
    oauth_errors: bool = True
    """True: token-endpoint errors are RFC 6749 bodies (with a FastAPI `detail` too). False: the
    tutorials' bare HTTPException (401 {"detail": ...})."""
    logout: bool = True
    """Serve POST /logout. The tutorials have none."""
    logout_auth: str = "refresh"
    """'refresh': the refresh token in the body is proof enough, whatever the Bearer token
    (without a refresh token, a correctly signed access token, expired or not, will do).
    'bearer-if-sent': a Bearer token, when sent, must be live (the mock server's rule).
    'access': a live access token is required, like a route behind Depends(get_current_user)."""
    prefix: str = ""
    """Mount every route under this path, e.g. '/api/v1'."""
    token_path: str = "/token"
    admin: bool = False
    """Serve the /__admin test hooks (clock, expiry, holds, faults, stats)."""
    cors: bool = True
    """Allow browser calls from http://localhost:* and http://127.0.0.1:* (the demo)."""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    users: tuple[tuple[str, str], ...] = (("demo", "demo-password"),)


CONTRACTS: dict[str, dict] = {
    # The contract tokenflight recommends.
    "reference": {},
    # The FastAPI tutorial: /token with OAuth2PasswordRequestForm, `refresh(refresh_token: str)`,
    # no expires_in, HTTPException(401) everywhere, no /logout.
    "tutorial-query": {
        "refresh_token_in": "query",
        "expires_in": "none",
        "bad_login_status": 401,
        "oauth_errors": False,
        "logout": False,
    },
    # The other tutorial: /api/v1/login answering 403 on bad credentials, /api/v1/refresh taking
    # JSON and returning only access_token, no expires_in, no /logout.
    "tutorial-json": {
        "prefix": "/api/v1",
        "token_path": "/login",
        "refresh_returns": "access",
        "expires_in": "none",
        "bad_login_status": 403,
        "oauth_errors": False,
        "logout": False,
    },
}


def settings_for(contract: str = "reference", **overrides) -> Settings:
    return replace(Settings(**CONTRACTS[contract]), **overrides)


@dataclass
class Family:
    user: str
    expires: int
    revoked: bool = False


@dataclass
class Hold:
    """Requests to a path wait here until released: races made deterministic from the tests."""

    released: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0


class TodoIn(BaseModel):
    title: constr(strip_whitespace=True, min_length=1, max_length=200)  # type: ignore[valid-type]
    done: bool = False


class TodoPatch(BaseModel):
    title: constr(strip_whitespace=True, min_length=1, max_length=200) | None = None  # type: ignore[valid-type]
    done: bool | None = None


class Store:
    """Everything the server remembers, in memory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reset()

    def reset(self) -> None:
        self.offset = 0.0
        self.families: dict[str, Family] = {}
        self.used_refresh: set[str] = set()  # the jti denylist
        self.access_issued: set[str] = set()
        self.access_expired: set[str] = set()
        self.todos: dict[str, list[dict]] = {}
        self.next_todo = 1
        self.stats: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.holds: dict[str, Hold] = {}
        self.faults: dict[str, list[dict]] = {}

    def todos_of(self, user: str) -> list[dict]:
        """A user's list, seeded on first use like the mock server's (the demo shows it)."""
        if user not in self.todos:
            self.todos[user] = []
            for title in ("Let the access token expire", "Watch tokenflight refresh it once"):
                self.todos[user].append({"id": self.next_todo, "title": title, "done": False})
                self.next_todo += 1
        return self.todos[user]

    def now(self) -> int:
        # Integer seconds: python-jose wants NumericDate claims as integers.
        return int(time.time() + self.offset)

    # ---- tokens ---------------------------------------------------------------------------

    def _encode(self, claims: dict) -> str:
        return jwt.encode(claims, self.settings.secret, algorithm=ALGORITHM)

    def decode(self, token: str, typ: str, *, verify_exp: bool = True) -> dict | None:
        try:
            # exp is checked below against this server's clock (which tests can move).
            claims = jwt.decode(
                token,
                self.settings.secret,
                algorithms=[ALGORITHM],
                options={"verify_exp": False},
            )
        except JWTError:
            return None
        if claims.get("typ") != typ or not isinstance(claims.get("exp"), int):
            return None
        if verify_exp and claims["exp"] <= self.now():
            return None
        return claims

    def access_token(self, user: str, fam: str) -> str:
        now = self.now()
        jti = uuid.uuid4().hex
        self.access_issued.add(jti)
        return self._encode(
            {
                "sub": user,
                "jti": jti,
                "fam": fam,
                "typ": "access",
                "iat": now,
                "exp": now + self.settings.access_ttl,
            }
        )

    def refresh_token(self, user: str, fam: str) -> str:
        return self._encode(
            {
                "sub": user,
                "jti": uuid.uuid4().hex,
                "fam": fam,
                "typ": "refresh",
                "iat": self.now(),
                "exp": self.families[fam].expires,
            }
        )

    def revoke(self, fam: str) -> None:
        family = self.families.get(fam)
        if family and not family.revoked:
            family.revoked = True
            self.stats["revokedFamilies"] += 1

    def user_of(self, access_token: str | None) -> str | None:
        claims = self.decode(access_token, "access") if access_token else None
        if claims is None or claims.get("jti") in self.access_expired:
            return None
        family = self.families.get(claims.get("fam", ""))
        return claims.get("sub") if family and not family.revoked else None


def token_body(store: Store, access: str, refresh: str | None, expires_in: bool) -> dict:
    body: dict = {"access_token": access, "token_type": "bearer"}
    if refresh is not None:
        body["refresh_token"] = refresh
    if expires_in:
        body["expires_in"] = store.settings.access_ttl
    return body


def no_store(body: dict) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    store = Store(settings)
    users = dict(settings.users)
    app = FastAPI(title="tokenflight FastAPI example")
    app.state.store = store
    p = settings.prefix
    bearer = OAuth2PasswordBearer(tokenUrl=p + settings.token_path, auto_error=False)

    def grant_error(description: str, status: int = 400) -> JSONResponse:
        """A refused grant: RFC 6749 §5.2, or the tutorials' HTTPException(401)."""
        if settings.oauth_errors:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": description, "detail": description},
                status_code=status,
                headers={"Cache-Control": "no-store"},
            )
        return JSONResponse(
            {"detail": description},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    def current_user(token: str | None = Depends(bearer)) -> str:
        user = store.user_of(token)
        if user is None:
            raise HTTPException(
                status_code=401,
                detail="Could not validate credentials",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return user

    # ---- token endpoints -----------------------------------------------------------------

    @app.post(p + settings.token_path)
    def login(form: OAuth2PasswordRequestForm = Depends()):
        if users.get(form.username) != form.password:
            store.stats["failedLogins"] += 1
            status = settings.bad_login_status
            message = "Incorrect email or password" if status == 403 else "Incorrect username or password"
            if status == 400:
                return grant_error(message)
            raise HTTPException(
                status_code=status,
                detail=message,
                headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
            )
        fam = uuid.uuid4().hex
        store.families[fam] = Family(form.username, store.now() + settings.refresh_ttl)
        store.stats["logins"] += 1
        return no_store(
            token_body(
                store,
                store.access_token(form.username, fam),
                store.refresh_token(form.username, fam),
                settings.expires_in in ("all", "token"),
            )
        )

    def refresh_grant(refresh_token: str):
        claims = store.decode(refresh_token, "refresh")
        family = store.families.get(claims["fam"]) if claims else None
        if claims is None or family is None:
            store.stats["failedRefreshes"] += 1
            return grant_error("refresh token is invalid or expired")
        if family.revoked:
            store.stats["failedRefreshes"] += 1
            return grant_error("refresh token revoked")
        if claims["jti"] in store.used_refresh:
            # A rotated-out token came back: someone holds a copy. Revoke the whole family.
            store.stats["failedRefreshes"] += 1
            store.stats["reuseDetections"] += 1
            store.revoke(claims["fam"])
            return grant_error("refresh token reuse detected; the session is revoked")
        user = claims["sub"]
        store.stats["refreshes"] += 1
        rotate = settings.refresh_returns == "pair"
        if rotate:
            store.used_refresh.add(claims["jti"])
            store.stats["rotations"] += 1
        return no_store(
            token_body(
                store,
                store.access_token(user, claims["fam"]),
                store.refresh_token(user, claims["fam"]) if rotate else None,
                settings.expires_in == "all",
            )
        )

    async def read_refresh_token(request: Request) -> str | None:
        """JSON {"refresh_token": "..."} or a form; None when there is none."""
        kind = request.headers.get("content-type", "")
        try:
            if kind.startswith("application/json"):
                body = await request.json()
                value = body.get("refresh_token") if isinstance(body, dict) else None
            elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await request.form()
                if form.get("grant_type", "refresh_token") != "refresh_token":
                    return None
                value = form.get("refresh_token")
            else:
                return None
        except ValueError:
            return None
        return value if isinstance(value, str) and value else None

    if settings.refresh_token_in == "query":

        @app.post(p + "/refresh")
        def refresh_from_query(refresh_token: str):
            return refresh_grant(refresh_token)

    else:

        @app.post(p + "/refresh")
        async def refresh(request: Request):
            token = await read_refresh_token(request)
            if token is None:
                store.stats["failedRefreshes"] += 1
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "refresh_token is required",
                        "detail": "refresh_token is required",
                    },
                    status_code=400,
                )
            return refresh_grant(token)

    if settings.logout:

        @app.post(p + "/logout", status_code=204)
        async def logout(request: Request, access_token: str | None = Depends(bearer)):
            # The refresh token is what must die, and holding it is proof enough: an expired
            # access token (or none) does not stop a logout.
            refresh_token = await read_refresh_token(request)
            strict = settings.logout_auth == "access" or (
                settings.logout_auth == "bearer-if-sent" and access_token is not None
            )
            if strict and store.user_of(access_token) is None:
                raise HTTPException(
                    status_code=401,
                    detail="Could not validate credentials",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            if refresh_token is None and access_token is None:
                return JSONResponse(
                    {"error": "invalid_request", "detail": "send the refresh token or a Bearer access token"},
                    status_code=400,
                )
            claims = refresh_token and store.decode(refresh_token, "refresh", verify_exp=False)
            claims = claims or (access_token and store.decode(access_token, "access", verify_exp=False))
            if claims:
                store.revoke(claims["fam"])
                store.stats["logouts"] += 1
            # RFC 7009 §2.2: an unknown token is not an error; nothing to say about it.
            return Response(status_code=204)

    # ---- protected resources ---------------------------------------------------------------

    def todo_of(user: str, todo_id: int) -> dict:
        for todo in store.todos_of(user):
            if todo["id"] == todo_id:
                return todo
        raise HTTPException(status_code=404, detail=f"todo {todo_id} not found")

    @app.get(p + "/me")
    def me(user: str = Depends(current_user)):
        return {"username": user}

    @app.get(p + "/todos")
    def list_todos(user: str = Depends(current_user)):
        return store.todos_of(user)

    @app.post(p + "/todos", status_code=201)
    def create_todo(todo: TodoIn, user: str = Depends(current_user)):
        item = {"id": store.next_todo, "title": todo.title, "done": todo.done}
        store.next_todo += 1
        store.todos_of(user).append(item)
        return item

    @app.get(p + "/todos/{todo_id}")
    def get_todo(todo_id: int, user: str = Depends(current_user)):
        return todo_of(user, todo_id)

    @app.patch(p + "/todos/{todo_id}")
    def patch_todo(todo_id: int, patch: TodoPatch, user: str = Depends(current_user)):
        item = todo_of(user, todo_id)
        item.update(patch.dict(exclude_none=True))
        return item

    @app.delete(p + "/todos/{todo_id}", status_code=204)
    def delete_todo(todo_id: int, user: str = Depends(current_user)):
        store.todos_of(user).remove(todo_of(user, todo_id))
        return Response(status_code=204)

    # ---- counting, and the admin hooks ------------------------------------------------------

    def route_of(path: str) -> str:
        path = path[len(p) :] if p and path.startswith(p) else path
        return "/todos/{id}" if path.startswith("/todos/") else path

    @app.middleware("http")
    async def count(request: Request, call_next):
        route = route_of(request.url.path)
        if route.startswith("/__admin") or request.method == "OPTIONS":
            return await call_next(request)
        store.calls[route] += 1
        hold = store.holds.get(route)
        if hold is not None:
            hold.waiting += 1
            await hold.released.wait()
        faults = store.faults.get(route)
        if faults:
            fault = faults.pop(0)
            store.stats["faults"] += 1
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else None
            return JSONResponse({"detail": "injected fault"}, status_code=fault["status"], headers=headers)
        response = await call_next(request)
        if route.startswith(PROTECTED):
            if response.status_code == 401:
                store.stats["unauthorized"] += 1
            elif 200 <= response.status_code < 300:
                store.stats["served"] += 1
        return response

    if settings.admin:
        install_admin(app, store)

    if settings.cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origin_regex=r"^http://(localhost|127\.0\.0\.1)(:\d+)?$",
            allow_methods=["*"],
            allow_headers=["*"],
        )
    return app


def install_admin(app: FastAPI, store: Store) -> None:
    """Test hooks, at /__admin whatever the prefix. Never enable them on a reachable server."""
    a = "/__admin"

    @app.get(a + "/stats")
    def stats():
        keys = (
            "logins failedLogins refreshes failedRefreshes rotations reuseDetections "
            "revokedFamilies logouts unauthorized served faults"
        ).split()
        return JSONResponse(
            {**{k: store.stats[k] for k in keys}, "calls": dict(store.calls)},
            headers={"Cache-Control": "no-store"},
        )

    @app.post(a + "/reset", status_code=204)
    def reset():
        for hold in store.holds.values():
            hold.released.set()
        store.reset()
        return Response(status_code=204)

    @app.post(a + "/expire-access-tokens", status_code=204)
    def expire_access_tokens():
        store.access_expired |= store.access_issued
        return Response(status_code=204)

    @app.post(a + "/revoke-sessions", status_code=204)
    def revoke_sessions():
        for fam in list(store.families):
            store.revoke(fam)
        return Response(status_code=204)

    @app.post(a + "/clock")
    def clock(body: dict):
        """{"advance": seconds}: moves this server's clock (token expiry) forward."""
        store.offset += float(body.get("advance", 0))
        return {"now": store.now()}

    @app.post(a + "/hold", status_code=204)
    def hold(body: dict):
        """{"path": "/refresh"}: requests to that route wait until released."""
        store.holds.setdefault(body["path"], Hold())
        return Response(status_code=204)

    @app.get(a + "/held")
    async def held(path: str, count: int = 1, timeout: float = 10):
        """Answers once `count` requests wait at the hold on `path` (408 after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while (h := store.holds.get(path)) is None or h.waiting < count:
            if time.monotonic() > deadline:
                return JSONResponse({"detail": "not enough requests held"}, status_code=408)
            await asyncio.sleep(0.005)
        return {"waiting": h.waiting}

    @app.post(a + "/release", status_code=204)
    def release(body: dict):
        hold = store.holds.pop(body["path"], None)
        if hold is not None:
            hold.released.set()
        return Response(status_code=204)

    @app.post(a + "/faults", status_code=204)
    def faults(body: dict):
        """{"path": "/refresh", "status": 429, "retry_after": 1, "count": 1}: the next `count`
        requests to that route get `status` (and Retry-After) instead of an answer."""
        fault = {"status": int(body["status"])}
        if "retry_after" in body:
            fault["retry_after"] = body["retry_after"]
        store.faults.setdefault(body["path"], []).extend([fault] * int(body.get("count", 1)))
        return Response(status_code=204)
