"""Make target/python-venv with the packages of requirements.txt (numpy, Pillow...).

    python3 scripts/python/setup.py [--venv DIR]

`measure` uses that venv's interpreter for the Python rows when it exists (else python3 on
PATH). Idempotent: an existing venv only gets missing packages. Exits 0 with a warning when
the packages cannot be downloaded, since every Python row can be skipped and say why.
"""

import argparse
import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=os.path.join(target, "python-venv"))
    args = parser.parse_args()
    python = os.path.join(args.venv, "bin", "python3")
    if not os.path.exists(python):
        print(f"python: creating {args.venv}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(args.venv)
    cmd = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-r", os.path.join(HERE, "requirements.txt")]
    result = subprocess.run(cmd)
    if result.returncode != 0:
        print("python: warning: could not install requirements.txt; rows that need them are skipped",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
