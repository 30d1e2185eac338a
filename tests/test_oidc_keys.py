"""The provider's signing keys are cached per process: an unknown key id fetches them again
(a rotation), but at most once a second, and no key is kept longer than ten minutes (a key the
provider withdrew stops working). The clock is set by the test; no network."""

from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import Key, KeySet, RSAKey

from hub.identity import provider

METADATA = provider.ProviderMetadata(
    issuer="https://id.example",
    authorization_endpoint="https://id.example/auth",
    token_endpoint="https://id.example/token",
    jwks_uri="https://id.example/jwks",
    end_session_endpoint=None,
    userinfo_endpoint=None,
)


class Provider:
    """Serves a JWKS that the test changes, counting fetches, on a clock the test moves."""

    def __init__(self) -> None:
        self.keys: list[Key] = [
            RSAKey.generate_key(2048, parameters={"kid": "one", "alg": "RS256"})
        ]
        self.fetches = 0
        self.now = 1000.0

    def jwks(self, url: str) -> dict[str, Any]:
        self.fetches += 1
        return dict(KeySet(self.keys).as_dict(private=False))

    def token(self, kid: str) -> str:
        key = next(k for k in self.keys if k.kid == kid)
        claims = {"iss": METADATA.issuer, "aud": "hub", "sub": "s", "iat": 1, "nonce": "n"}
        return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


@pytest.fixture
def idp(monkeypatch: pytest.MonkeyPatch) -> Provider:
    served = Provider()
    provider.forget_keys()
    monkeypatch.setattr(provider, "_get_json", served.jwks)
    monkeypatch.setattr(provider.time, "monotonic", lambda: served.now)
    return served


def test_an_unknown_key_id_fetches_the_keys_again_at_most_once_a_second(idp):
    assert provider.verify_signature(idp.token("one"), METADATA).claims["sub"] == "s"
    assert idp.fetches == 1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "two", "alg": "RS256"})
    idp.keys = [rotated]
    token = idp.token("two")
    idp.now += 0.5
    with pytest.raises(provider.TokenRefused) as refused:
        provider.verify_signature(token, METADATA)  # too soon: no second fetch
    assert refused.value.reason == "unknown_signing_key" and idp.fetches == 1
    idp.now += 1
    assert provider.verify_signature(token, METADATA).claims["sub"] == "s"
    assert idp.fetches == 2


def test_a_withdrawn_key_stops_working_once_the_cache_is_old(idp):
    token = idp.token("one")
    provider.verify_signature(token, METADATA)
    idp.keys = [RSAKey.generate_key(2048, parameters={"kid": "two", "alg": "RS256"})]
    idp.now += 60
    assert provider.verify_signature(token, METADATA)  # cached for now
    idp.now += provider.KEYS_MAX_AGE_SECONDS
    with pytest.raises(provider.TokenRefused):
        provider.verify_signature(token, METADATA)
