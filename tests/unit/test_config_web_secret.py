"""COSIGNATORY_WEB_SECRET: accepted forms and actionable errors."""

from __future__ import annotations

import base64

import pytest

from cosignatory.config import load_web_secret
from cosignatory.core.errors import InputError


def test_unset_means_random_per_process():
    assert load_web_secret({}) is None
    assert load_web_secret({"COSIGNATORY_WEB_SECRET": "  "}) is None


def test_hex_and_base64url():
    key = bytes(range(32))
    assert load_web_secret({"COSIGNATORY_WEB_SECRET": key.hex()}) == key
    b64 = base64.urlsafe_b64encode(key).decode().rstrip("=")
    assert load_web_secret({"COSIGNATORY_WEB_SECRET": b64}) == key


@pytest.mark.parametrize(
    ("value", "message"), [("abcd", "at least 32"), ("%%%", "neither hex nor base64url")]
)
def test_bad_secrets_are_refused(value, message):
    with pytest.raises(InputError, match=message):
        load_web_secret({"COSIGNATORY_WEB_SECRET": value})
