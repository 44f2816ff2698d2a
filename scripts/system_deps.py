"""Install the Debian packages journeymap needs, where they are missing and apt exists.

Run by `make setup`. Exits 0 when everything is present or installed; on a machine
without apt it says what to install by hand and exits 1, so `make` stops with that
message instead of failing later in a confusing way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# What each package gives us, checked without asking apt (which may be absent).
PROBES = {
    "graphviz": lambda: shutil.which("dot") is not None,
    "fonts-noto-cjk": lambda: _font_present("Noto Sans CJK"),
    # Emoji in labels come out of Graphviz as empty boxes without a font that has them.
    "fonts-noto-color-emoji": lambda: _font_present("Noto Color Emoji"),
    # The marks Noto Sans CJK lacks (✖ ✓ ℹ) in the PDF handout (maps.handout).
    "fonts-dejavu-core": lambda: _font_present("DejaVu Sans"),
    # msgfmt: `make messages` compiles the translations (locale/*/django.mo).
    "gettext": lambda: shutil.which("msgfmt") is not None and shutil.which("xgettext") is not None,
    "chromium": lambda: shutil.which("chromium") is not None,
}

HELP = """\
journeymap needs: Graphviz (the `dot` command), a CJK font (Noto Sans CJK), an emoji font
(Noto Color Emoji), DejaVu Sans (the handout's marks), GNU gettext (msgfmt) and Chromium (for the browser tests). This machine
has no apt-get, so install them yourself:
  macOS:   brew install graphviz gettext chromium && brew install --cask font-noto-sans-cjk font-noto-color-emoji font-dejavu
  Fedora:  sudo dnf install graphviz gettext google-noto-sans-cjk-fonts google-noto-color-emoji-fonts dejavu-sans-fonts chromium
Then run the make command again. Missing now: {missing}"""


def _font_present(family: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True).stdout
    return family in out


def main(packages: list[str]) -> int:
    missing = [name for name in packages if not PROBES.get(name, lambda: False)()]
    if not missing:
        return 0
    if shutil.which("apt-get") is None:
        print(HELP.format(missing=", ".join(missing)), file=sys.stderr)
        return 1
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        print(
            HELP.replace("This machine has no apt-get", "apt-get needs root and there is no sudo").format(
                missing=", ".join(missing)
            ),
            file=sys.stderr,
        )
        return 1
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"Installing with apt-get: {' '.join(missing)}")
    steps = [prefix + ["apt-get", "update", "-qq"], prefix + ["apt-get", "install", "-y", "-qq", *missing]]
    for step in steps:
        if subprocess.run(step, env=env).returncode != 0:
            print(f"Could not run: {' '.join(step)}. Install {', '.join(missing)} and try again.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
