"""hlmlab.paths: the data and lesson folders, from an installed package or the checkout."""

from __future__ import annotations

from hlmlab import paths


def test_a_checkout_uses_its_top_level_folders():
    assert paths.DATA_DIR == paths.CHECKOUT_DIR / "data"
    assert paths.LESSONS_DIR == paths.CHECKOUT_DIR / "lessons"
    assert (paths.DATA_DIR / "nels88_synthetic.csv").is_file()
    assert (paths.LESSONS_DIR / "nels88_two_schools.md").is_file()


def test_an_installed_package_s_own_folder_comes_first(tmp_path, monkeypatch):
    """As in a wheel, where data/ sits inside the package: that copy wins; without it the
    checkout's folder is used."""
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path / "hlmlab")
    monkeypatch.setattr(paths, "CHECKOUT_DIR", tmp_path)
    assert paths.bundled_dir("data") == tmp_path / "data"
    (tmp_path / "hlmlab" / "data").mkdir(parents=True)
    assert paths.bundled_dir("data") == tmp_path / "hlmlab" / "data"
