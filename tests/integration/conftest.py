import pytest

from tests.integration.desk import Desk, desk_environment


@pytest.fixture
def make_desk(tmp_path):
    """Makes desks in the test's own directory; every process they started is killed at teardown."""
    desks = []

    def make(**overrides: str) -> Desk:
        var_dir = tmp_path / f"desk-{len(desks)}"
        var_dir.mkdir()
        desk = Desk(var_dir=var_dir, environment=desk_environment(var_dir, **overrides))
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.stop()
