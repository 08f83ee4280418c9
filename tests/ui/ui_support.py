"""Logging in to the steward UI over plain HTTP (requests), as a browser would."""

from __future__ import annotations

import re

import requests

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(base_url: str, user: str, password: str) -> requests.Session:
    """A session holding the UI's session cookie (no Basic credentials)."""
    session = requests.Session()
    form = session.get(f"{base_url}/login", timeout=30)
    assert form.status_code == 200, form.text
    answer = session.post(
        f"{base_url}/login",
        data={"csrf_token": csrf_token(form.text), "username": user, "password": password, "next": "/"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text
    return session
