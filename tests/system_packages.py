"""Real system components the tests need (headless Chromium, redis-server): found on PATH, or
installed with apt-get where that is possible (root, apt-get present, LSTMKIT_NO_APT unset);
otherwise the reason the tests that need them skip."""

import os
import shutil
import subprocess


def find_or_install(names: tuple[str, ...], package: str) -> tuple[str | None, str]:
    """(path of the first of ``names`` on PATH, "") or (None, why it cannot be had)."""
    found = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if found:
        return found, ""
    if os.environ.get("LSTMKIT_NO_APT"):
        return None, f"{names[0]} is not installed and LSTMKIT_NO_APT is set"
    if not shutil.which("apt-get") or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, f"{names[0]} is not installed and apt-get cannot install it here (not root or no apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-q", package], ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", package]):
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=900)
        except (OSError, subprocess.TimeoutExpired):
            break
        found = next((shutil.which(n) for n in names if shutil.which(n)), None)
        if found:
            return found, ""
    return None, f"{names[0]} could not be installed with apt-get install {package}"
