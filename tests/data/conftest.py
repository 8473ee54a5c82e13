import pytest


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty dataset cache folder, selected through $RNNLAB_CACHE."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("RNNLAB_CACHE", str(folder))
    return folder
