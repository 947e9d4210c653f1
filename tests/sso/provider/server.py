"""A small, real OpenID Connect provider for the single sign-on tests.

Built on Authlib's authorization server (authorization code flow with PKCE, ID tokens
signed RS256, userinfo, discovery, JWKS and RP-initiated logout), served by Werkzeug in
its own process: `python -m tests.sso.provider.server --config FILE`. It binds a free
loopback port and prints `READY <issuer>` once it answers. The config file names the
client (id, secret, redirect URIs, post-logout redirect URIs) and the people who can
sign in (password and claims). Everything is kept in memory for the process's life.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, Response, render_template_string, request, session
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

SCOPES = ("openid", "email", "profile", "groups")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} · Test Identity Provider</title></head><body>
<h1>{{ title }}</h1>
{% if error %}<p role="alert">{{ error }}</p>{% endif %}
{% if step == "login" %}
<form method="post" action="{{ action }}">
  <label for="username">Provider username</label><input id="username" name="username">
  <label for="password">Provider password</label>
  <input id="password" name="password" type="password">
  <button type="submit" name="step" value="login">Sign in to the provider</button>
</form>
{% elif step == "consent" %}
<p>{{ client_id }} asks to know your name and e-mail address.</p>
<form method="post" action="{{ action }}">
  <button type="submit" name="consent" value="allow">Allow</button>
  <button type="submit" name="consent" value="deny">Deny</button>
</form>
{% else %}<p>{{ text }}</p>{% endif %}
</body></html>"""


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    access_token: str
    client: Client
    scope: str
    user: dict[str, Any]
    expires_in: int
    issued_at: int = field(default_factory=lambda: int(time.time()))

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return False

    def get_user(self) -> dict[str, Any]:
        return self.user

    def get_client(self) -> Client:
        return self.client


class Claims(UserInfo):  # type: ignore[misc]
    # As Keycloak and Okta do: a "groups" scope releases the groups claim.
    SCOPES_CLAIMS_MAPPING = {**UserInfo.SCOPES_CLAIMS_MAPPING, "groups": ["groups"]}


def user_info(user: dict[str, Any], scope: str) -> UserInfo:
    claims = {k: v for k, v in user.items() if k != "password"}
    return Claims(claims).filter(scope)


def build_app(config: dict[str, Any], issuer: str) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES)
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})
    keys = KeySet([key])
    client = Client(
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        redirect_uris=config["redirect_uris"],
        post_logout_redirect_uris=config["post_logout_redirect_uris"],
    )
    users: dict[str, dict[str, Any]] = config["users"]
    codes: dict[str, Code] = {}
    tokens: dict[str, Token] = {}
    nonces: set[str] = set()

    class IdToken(OpenIDCode):  # type: ignore[misc]
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return nonce in nonces

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": str(key.kid)}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            return {"iss": issuer, "aud": [client.client_id]}

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return user_info(user, scope)

    class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            nonce = data.get("nonce")
            if nonce:
                nonces.add(nonce)
            codes[code] = Code(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=req.payload.redirect_uri,
                scope=req.scope,
                user=req.user,
                nonce=nonce,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = codes.get(code)
            return found if found and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.user

    def save_token(token: dict[str, Any], req: Any) -> None:
        tokens[token["access_token"]] = Token(
            access_token=token["access_token"],
            client=req.client,
            scope=token.get("scope", ""),
            user=req.user,
            expires_in=int(token.get("expires_in", 3600)),
        )

    class Bearer(BearerTokenValidator):  # type: ignore[misc]
        def authenticate_token(self, token_string: str) -> Token | None:
            return tokens.get(token_string)

    protector = ResourceProtector()
    protector.register_token_validator(Bearer())

    class UserInfoAnswer(UserInfoEndpoint):  # type: ignore[misc]
        def get_issuer(self) -> str:
            return issuer

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return user_info(user, scope)

        def resolve_private_key(self) -> KeySet:
            return keys

    class EndSession(EndSessionEndpoint):  # type: ignore[misc]
        def get_server_jwks(self) -> KeySet:
            return keys

        def end_session(self, end_session_request: Any) -> None:
            session.clear()

    server = AuthorizationServer(
        app,
        query_client=lambda cid: client if cid == client.client_id else None,
        save_token=save_token,
    )
    server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])
    server.register_endpoint(UserInfoAnswer(resource_protector=protector))
    server.register_endpoint(EndSession)

    def page(title: str, **context: Any) -> str:
        return render_template_string(PAGE, title=title, **context)

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name", "groups"],
        }

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return dict(keys.as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        action = request.full_path
        if request.form.get("step") == "login":
            person = users.get(request.form.get("username", ""))
            if person is None or not secrets.compare_digest(
                person["password"], request.form.get("password", "")
            ):
                return page(
                    "Sign in", step="login", action=action, error="Wrong username or password."
                )
            session["user"] = request.form["username"]
        name = session.get("user")
        person = users.get(name) if name else None
        if person is None:
            return page("Sign in", step="login", action=action)
        try:
            grant = server.get_consent_grant(end_user=person)
        except OAuth2Error as error:
            return page("Error", step="error", text=error.error), 400
        if "consent" not in request.form:
            return page(
                "Allow access", step="consent", action=action, client_id=grant.client.client_id
            )
        granted = person if request.form["consent"] == "allow" else None
        return server.create_authorization_response(grant_user=granted)

    @app.post("/token")
    def token() -> Response:
        return server.create_token_response()  # type: ignore[no-any-return]

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        return server.create_endpoint_response("userinfo")  # type: ignore[no-any-return]

    @app.route("/logout", methods=["GET", "POST"])
    def logout() -> Any:
        try:
            answer = server.create_endpoint_response("end_session")
        except OAuth2Error as error:
            return page("Error", step="error", text=error.error), 400
        return answer or page("Signed out", step="done", text="You are signed out of the provider.")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    config = json.loads(parser.parse_args().config.read_text())
    # Bound before the app is built: the issuer names the port.
    server = make_server("127.0.0.1", 0, Flask(__name__), threaded=True)
    issuer = f"http://127.0.0.1:{server.server_port}"
    server.app = build_app(config, issuer)
    print(f"READY {issuer}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
