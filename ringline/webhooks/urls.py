"""Safety checks of webhook URLs, so that deliveries cannot reach internal hosts.

check_url checks the text of a URL. resolve_and_check also resolves the host
and checks every address it resolves to; it runs when a webhook is saved.
Deliveries check the text of the URL before each attempt and connect through
CheckedResolver, which checks every address a host name resolves to at the
moment of connecting. A DNS answer that changes after the webhook was saved
(DNS rebinding) therefore cannot lead a delivery to an internal host.

Redirects are not followed: a redirect target would skip these checks, so the
client that sends deliveries must not follow redirects.
"""

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT_S = 5.0
DEFAULT_PORTS = {"https": 443, "http": 80}
ALLOW_PRIVATE_SETTING = "RINGLINE_WEBHOOK_ALLOW_PRIVATE=true"
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")

# Cloud metadata and credential services, rejected whatever the settings:
# 169.254.169.254 (AWS, Google Cloud, Azure and others), fd00:ec2::254 (AWS
# over IPv6), 169.254.170.2 (AWS ECS task credentials), 169.254.170.23 and
# fd00:ec2::23 (AWS EKS Pod Identity), 100.100.100.200 (Alibaba Cloud) and
# 168.63.129.16 (Azure WireServer). Some are public or private addresses, so
# the address kinds alone would not catch them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",
        "fd00:ec2::254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::23",
        "100.100.100.200",
        "168.63.129.16",
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
# Address kinds that RINGLINE_WEBHOOK_ALLOW_PRIVATE allows. Every other kind
# that _address_kind returns is rejected whatever the settings.
PRIVATE_KINDS = frozenset({"loopback", "private"})


class UnsafeUrl(ValueError):
    """A webhook URL is malformed or leads to an address that is not allowed."""


class UnresolvableHost(UnsafeUrl):
    """The host of a webhook URL did not resolve, which may be temporary."""


@dataclass(frozen=True, slots=True)
class Destination:
    host: str
    port: int
    # Set when the host is an IP address literal rather than a name.
    address: IPAddress | None


def check_url(url: str, allow_private: bool) -> None:
    """Check the text of a webhook URL: scheme, host, no user info, length.

    An IP address literal is checked here as resolve_and_check would check it,
    but a host name is not resolved. Raises UnsafeUrl with a message for the
    client.
    """
    _parse(url, allow_private)


async def resolve_and_check(
    url: str, allow_private: bool, timeout_s: float = RESOLVE_TIMEOUT_S
) -> None:
    """Check the URL, resolve its host and check every address it resolves to.

    Raises UnresolvableHost when the host does not resolve within timeout_s, and
    UnsafeUrl when the URL is malformed or any address is not allowed.
    """
    destination = _parse(url, allow_private)
    if destination.address is not None:
        return

    try:
        async with asyncio.timeout(timeout_s):
            infos = await asyncio.get_running_loop().getaddrinfo(
                destination.host, destination.port, type=socket.SOCK_STREAM
            )
    except (OSError, UnicodeError, TimeoutError):
        infos = []
    if not infos:
        raise UnresolvableHost(
            f"host {destination.host} could not be resolved; check the name"
        )
    for info in infos:
        address = _ip_literal(str(info[4][0]))
        if address is None:
            raise UnsafeUrl(f"host {destination.host} resolves to an invalid address")
        _check_address(destination.host, address, allow_private)


class CheckedResolver(AbstractResolver):
    """aiohttp's threaded resolver, with every address it returns checked.

    Raises UnsafeUrl, as resolve_and_check does, when any address of the host
    is not allowed, so that no connection is made to it.
    """

    def __init__(self, allow_private: bool) -> None:
        self._resolver = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            address = _ip_literal(result["host"])
            if address is None:
                raise UnsafeUrl(f"host {host} resolves to an invalid address")
            _check_address(host, address, self._allow_private)
        return results

    async def close(self) -> None:
        await self._resolver.close()


def _parse(url: str, allow_private: bool) -> Destination:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
    if CONTROL_OR_SPACE.search(url):
        raise UnsafeUrl("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"is not a valid URL ({error})") from None

    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        hint = "" if allow_private else "; plain http needs " + ALLOW_PRIVATE_SETTING
        raise UnsafeUrl(f"must start with {':// or '.join(schemes)}://{hint}")
    if "@" in parts.netloc:
        raise UnsafeUrl("must not contain a user name or password")
    host = parts.hostname or ""
    if not host:
        raise UnsafeUrl("must name a host, as in https://example.com/hooks")
    if port == 0:
        raise UnsafeUrl("port must be from 1 to 65535")

    address = _ip_literal(host)
    if address is not None:
        _check_address(host, address, allow_private)
    elif not HOST_NAME.fullmatch(_ascii_host(host)):
        raise UnsafeUrl(f"host {host[:100]!r} is not a valid host name")
    return Destination(host, port or DEFAULT_PORTS[parts.scheme], address)


def _ip_literal(host: str) -> IPAddress | None:
    # An IPv6 zone id (fe80::1%eth0) names an interface, not another address,
    # so the address is checked without it.
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None


def _ascii_host(host: str) -> str:
    """Return the IDNA form of a host name, or "" when it has none."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _check_address(host: str, address: IPAddress, allow_private: bool) -> None:
    for reached in _reached_addresses(address):
        kind = _address_kind(reached)
        if kind is None or (allow_private and kind in PRIVATE_KINDS):
            continue
        # The resolved address itself is left out of the message, so that the
        # API cannot be used to read the server's internal DNS names.
        verb = "resolves to"
        if _ip_literal(host) is not None:
            verb = "is" if reached == address else "embeds"
        article = "an" if kind[0] in "aeiou" else "a"
        hint = ""
        if kind in PRIVATE_KINDS:
            hint = f"; such addresses need {ALLOW_PRIVATE_SETTING} on the server"
        raise UnsafeUrl(f"host {host} {verb} {article} {kind} address{hint}")


def _reached_addresses(address: IPAddress) -> list[IPAddress]:
    """Return the address and any IPv4 address embedded in it for routing.

    An IPv4-mapped IPv6 address connects to its IPv4 address, so only that one
    is judged. 6to4, Teredo and NAT64 addresses are judged with the IPv4
    addresses that relays would forward them to.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    reached: list[IPAddress] = [address]
    if address.sixtofour is not None:
        reached.append(address.sixtofour)
    if address.teredo is not None:
        reached.extend(address.teredo)
    if address in NAT64_PREFIX:
        reached.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return reached


def _address_kind(address: IPAddress) -> str | None:
    """Return the kind of a non-public address, or None for a public one.

    The order matters because the kinds overlap: ::1 is also reserved, and
    169.254.0.0/16 is also private.
    """
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if address.is_loopback:
        return "loopback"
    if address.is_reserved:
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"
    return None
