"""Build hook: ships the root manifest.yml in the wheel as bot/manifest.yml (rest: pyproject)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MANIFEST = Path(__file__).resolve().parent / "manifest.yml"


class BuildPyWithManifest(build_py):
    """The Slack app manifest is one file at the repository root; the package needs a copy."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "bot" / "manifest.yml"
        self.mkpath(str(target.parent))
        self.copy_file(str(MANIFEST), str(target))


setup(cmdclass={"build_py": BuildPyWithManifest})
