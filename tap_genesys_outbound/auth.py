"""OAuth client-credentials authentication, one token for every stream.

Genesys issues no refresh token: the tap asks for a new one shortly before
`expires_in` runs out, or once after a 401. The token request itself is retried
on 429 (Retry-After) and 5xx like any other call. Neither the client secret nor
a token is ever put in a log line or an exception message.
"""

from __future__ import annotations

import base64
import threading
import time

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_genesys_outbound.errors import CredentialsRefusedError, GenesysAPIError
from tap_genesys_outbound.retry import seconds_before_retry

#: Refresh this long before the server-side expiry, so no request carries a
#: token that expires in flight.
REFRESH_MARGIN_SECONDS = 60
MAX_TOKEN_TRIES = 6
#: The token request gives up rather than wait past this (long Retry-After answers included).
MAX_TOKEN_RETRY_SECONDS = 600


class GenesysAuthenticator(OAuthAuthenticator):
    """SDK OAuth authenticator with Basic client auth and Genesys's retry rules."""

    def __init__(self, *, client_id: str, client_secret: str, login_url: str, timeout: float = 60) -> None:
        credentials = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        super().__init__(
            auth_endpoint=f"{login_url}/oauth/token",
            client_id=client_id,
            client_secret=client_secret,
            oauth_headers={"Authorization": f"Basic {credentials}"},
        )
        self._timeout = timeout
        self._lock = threading.Lock()
        self._valid_until = 0.0
        self.token_requests = 0

    def __repr__(self) -> str:  # never show credentials in a debugger or log
        return f"GenesysAuthenticator(endpoint={self.auth_endpoint!r})"

    @property
    def oauth_request_body(self) -> dict:
        """Client credentials go in the Basic header; the body names the grant only."""
        return {"grant_type": "client_credentials"}

    def is_token_valid(self) -> bool:
        return self.access_token is not None and time.monotonic() < self._valid_until

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:  # one token fetch even if several threads find it stale
            if not self.is_token_valid():
                self.update_access_token()
            token = self.access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def invalidate(self, token_in_request: str | None) -> None:
        """Forget the current token after a 401, unless another stream already replaced it."""
        with self._lock:
            if token_in_request == f"Bearer {self.access_token}":
                self.access_token = None
                self._valid_until = 0.0

    def update_access_token(self) -> None:
        """POST grant_type=client_credentials, retrying 429/5xx/connection errors (bounded in tries and time)."""
        started = time.monotonic()
        for attempt in range(1, MAX_TOKEN_TRIES + 1):
            response = None
            try:
                self.token_requests += 1
                response = self._session.post(
                    self.auth_endpoint, headers=self._oauth_headers, data=self.oauth_request_body, timeout=self._timeout
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                failure = f"could not reach the token endpoint {self.auth_endpoint} ({type(exc).__name__})"
            else:
                if response.status_code == 200:
                    self._store_token(response)
                    return
                if response.status_code in (400, 401, 403):
                    raise CredentialsRefusedError(
                        f"Genesys Cloud refused the OAuth client credentials ({response.status_code} from "
                        f"{self.auth_endpoint}): check client_id, client_secret and region/login_url"
                    )
                failure = f"token endpoint {self.auth_endpoint} answered {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    raise GenesysAPIError(failure)
            wait = seconds_before_retry(response, attempt)
            elapsed = time.monotonic() - started
            if attempt == MAX_TOKEN_TRIES or elapsed + wait > MAX_TOKEN_RETRY_SECONDS:
                raise GenesysAPIError(f"{failure}; gave up after {attempt} tries in {elapsed:.0f} s")
            self.logger.warning("Token request failed: %s; retrying in %.1f s", failure, wait)
            time.sleep(wait)

    def _store_token(self, response: requests.Response) -> None:
        try:
            body = response.json()
            token = body["access_token"]
        except (ValueError, KeyError, TypeError):
            raise GenesysAPIError(f"token endpoint {self.auth_endpoint} answered 200 without an access_token") from None
        lifetime = float(body.get("expires_in") or 86400)
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 10)
        self.access_token = token
        self.expires_in = int(lifetime)
        self._valid_until = time.monotonic() + lifetime - margin
        self.logger.info("Obtained an access token valid for %d s", int(lifetime))

