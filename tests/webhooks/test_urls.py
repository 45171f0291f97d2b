"""URL safety: the text of a webhook URL and the addresses its host resolves to."""

import asyncio
import socket
from typing import Any

import pytest

from ringline.webhooks.urls import (
    CheckedResolver,
    UnresolvableHost,
    UnsafeUrl,
    check_url,
    resolve_and_check,
)

REJECTED_TEXT = {
    "http": ("http://93.184.215.14/", "must start with https://"),
    "ftp": ("ftp://93.184.215.14/", "must start with https://"),
    "no scheme": ("93.184.215.14/hooks", "must start with https://"),
    "no host": ("https:///hooks", "must name a host"),
    "user info": ("https://user:pass@93.184.215.14/", "user name or password"),
    "user only": ("https://user@93.184.215.14/", "user name or password"),
    "too long": ("https://93.184.215.14/" + "a" * 2048, "at most 2048 characters"),
    "space": ("https://exa mple.com/", "spaces or control characters"),
    "newline": ("https://example.com/\nX-Header: 1", "control characters"),
    "bad port": ("https://93.184.215.14:99999/", "is not a valid URL"),
    "port zero": ("https://93.184.215.14:0/", "port must be from 1 to 65535"),
    "bad host": ("https://exa%mple.com/", "is not a valid host name"),
    "loopback": ("https://127.0.0.1/", "loopback address"),
    "loopback range": ("https://127.8.9.10/", "loopback address"),
    "private 10": ("https://10.1.2.3/", "private address"),
    "private 192": ("https://192.168.1.20/", "private address"),
    "private 172": ("https://172.16.0.1/", "private address"),
    "shared": ("https://100.64.0.1/", "private address"),
    "link-local": ("https://169.254.10.20/", "link-local address"),
    "metadata": ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
    "ipv6 metadata": ("https://[fd00:ec2::254]/", "cloud metadata"),
    "ipv6 loopback": ("https://[::1]/", "loopback address"),
    "ipv6 private": ("https://[fd12:3456::1]/", "private address"),
    "ipv6 link-local": ("https://[fe80::1]/", "link-local address"),
    "mapped loopback": ("https://[::ffff:127.0.0.1]/", "loopback address"),
    "mapped metadata": ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
    "6to4 private": ("https://[2002:a00:1::]/", "private address"),
    "unspecified": ("https://0.0.0.0/", "unspecified address"),
    "ipv6 unspecified": ("https://[::]/", "unspecified address"),
    "multicast": ("https://224.0.0.1/", "multicast address"),
    "reserved": ("https://240.0.0.1/", "reserved address"),
}


@pytest.mark.parametrize("case", list(REJECTED_TEXT))
def test_check_url_rejects_by_default(case: str) -> None:
    url, expected = REJECTED_TEXT[case]

    with pytest.raises(UnsafeUrl) as raised:
        check_url(url, allow_private=False)

    assert expected in str(raised.value)


def test_check_url_accepts_public_https() -> None:
    for url in (
        "https://93.184.215.14/hooks?token=abc",
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:8443/x",
        "https://hooks.example.com/ringline",
        "https://bücher.example/hooks",
    ):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "https://10.1.2.3/",
        "https://[::1]/",
        "https://[::ffff:192.168.0.1]/",
        "http://93.184.215.14/",
    ],
)
def test_check_url_allows_private_when_set(url: str) -> None:
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://169.254.169.254/", "cloud metadata"),
        ("https://[fd00:ec2::254]/", "cloud metadata"),
        ("https://[fd00:ec2::254%25eth0]/", "cloud metadata"),
        ("https://168.63.129.16/", "cloud metadata"),
        ("https://100.100.100.200/", "cloud metadata"),
        ("https://169.254.1.1/", "link-local"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("ftp://127.0.0.1/", "must start with https:// or http://"),
        ("http://user:pass@127.0.0.1/", "user name or password"),
    ],
)
def test_check_url_rejects_always(url: str, expected: str) -> None:
    with pytest.raises(UnsafeUrl) as raised:
        check_url(url, allow_private=True)

    assert expected in str(raised.value)


def test_private_message_names_setting() -> None:
    with pytest.raises(UnsafeUrl) as raised:
        check_url("https://10.0.0.1/", allow_private=False)

    assert "RINGLINE_WEBHOOK_ALLOW_PRIVATE=true" in str(raised.value)


async def test_resolve_rejects_localhost() -> None:
    with pytest.raises(UnsafeUrl) as raised:
        await resolve_and_check("https://localhost/hook", allow_private=False)

    assert "host localhost resolves to a loopback address" in str(raised.value)


async def test_resolve_rejects_numeric_host_forms() -> None:
    # The resolver reads these as 127.0.0.1, as inet_aton does.
    for url in ("https://2130706433/", "https://0x7f.1/"):
        with pytest.raises(UnsafeUrl) as raised:
            await resolve_and_check(url, allow_private=False)

        assert "loopback address" in str(raised.value)


async def test_resolve_allows_localhost_when_set() -> None:
    await resolve_and_check("http://localhost:9/hook", allow_private=True)


async def test_resolve_unknown_host_raises() -> None:
    with pytest.raises(UnresolvableHost) as raised:
        await resolve_and_check("https://ringline-test.invalid/", allow_private=True)

    assert str(raised.value) == (
        "host ringline-test.invalid could not be resolved; check the name"
    )


def _fake_resolver(addresses: list[str]) -> Any:
    async def getaddrinfo(host: str, port: int, **_: Any) -> list[tuple]:
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                1,
                6,
                "",
                (address, port),
            )
            for address in addresses
        ]

    return getaddrinfo


async def test_resolve_rejects_any_private_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    resolver = _fake_resolver(["93.184.215.14", "10.0.0.7"])
    monkeypatch.setattr(loop, "getaddrinfo", resolver)

    with pytest.raises(UnsafeUrl) as raised:
        await resolve_and_check("https://hooks.example.com/", allow_private=False)

    assert "hooks.example.com resolves to a private address" in str(raised.value)


async def test_resolve_message_hides_address(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_resolver(["10.20.30.40"]))

    with pytest.raises(UnsafeUrl) as raised:
        await resolve_and_check("https://hooks.example.com/", allow_private=False)

    assert "10.20.30.40" not in str(raised.value)


async def test_resolve_accepts_public_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    resolver = _fake_resolver(
        ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    )
    monkeypatch.setattr(loop, "getaddrinfo", resolver)

    await resolve_and_check("https://hooks.example.com/", allow_private=False)


async def test_resolve_skips_resolver_for_literals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unreachable(*_: Any, **__: Any) -> list[tuple]:
        raise AssertionError("an address literal must not be resolved")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", unreachable)

    await resolve_and_check("https://93.184.215.14/hooks", allow_private=False)


async def test_resolve_times_out_as_unresolvable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def slow(*_: Any, **__: Any) -> list[tuple]:
        await asyncio.sleep(10)
        return []

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", slow)

    with pytest.raises(UnresolvableHost):
        await resolve_and_check("https://slow.example.com/", False, timeout_s=0.05)


async def test_checked_resolver_refuses_loopback() -> None:
    resolver = CheckedResolver(allow_private=False)

    with pytest.raises(UnsafeUrl) as raised:
        await resolver.resolve("localhost", 443)
    await resolver.close()

    assert "host localhost resolves to a loopback address" in str(raised.value)


async def test_checked_resolver_allows_when_set() -> None:
    resolver = CheckedResolver(allow_private=True)

    results = await resolver.resolve("localhost", 443)
    await resolver.close()

    assert {result["host"] for result in results} == {"127.0.0.1"}
