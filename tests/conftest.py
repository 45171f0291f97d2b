from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ringline.core.logging import configure_logging
from tests.databases import KINDS, POSTGRES_URL, TemplateDatabases, template_databases
from tests.factories import Api, open_api


def pytest_configure(config: pytest.Config) -> None:
    configure_logging("warning")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        metafunc.parametrize("database_kind", KINDS, scope="module")


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TemplateDatabases]:
    with template_databases(tmp_path_factory.mktemp("databases")) as made:
        yield made


@pytest.fixture(scope="module")
def database_kind_checked(database_kind: str) -> str:
    if database_kind == "postgresql" and not POSTGRES_URL:
        pytest.skip("RINGLINE_TEST_POSTGRES_URL is not set")
    return database_kind


@pytest.fixture
def database_url(databases: TemplateDatabases, database_kind_checked: str) -> str:
    """A fresh, migrated, empty database of the kind under test."""
    return databases.create(database_kind_checked)


@pytest.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(database_url, tmp_path) as opened:
        yield opened
