"""Make target/python-venv with the packages of requirements.txt (numpy, Pillow...).

    python3 scripts/python/setup.py [--venv DIR]

`measure` uses that venv's interpreter for the Python rows when it exists (else python3 on
PATH). The venv is always `target/python-venv` under the workspace root, whatever
CARGO_TARGET_DIR says, since that is where `measure` looks for it. Idempotent: an existing
venv only gets missing packages. Exits 1 when the venv cannot be made or the packages cannot
be installed (`.ci/run` stops there); on a reader's machine the Python rows that need them are
then skipped and say why.
"""

import argparse
import os
import subprocess
import sys
import venv

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=os.path.join(ROOT, "target", "python-venv"))
    args = parser.parse_args()
    python = os.path.join(args.venv, "bin", "python3")
    if not os.path.exists(python):
        print(f"python: creating {args.venv}", file=sys.stderr)
        try:
            venv.EnvBuilder(with_pip=True).create(args.venv)
        except Exception as e:  # ensurepip missing (Debian's python3-venv), no space...
            print(f"python: error: cannot create {args.venv}: {e}", file=sys.stderr)
            return 1
    cmd = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "-r", os.path.join(HERE, "requirements.txt")]
    result = subprocess.run(cmd)
    if result.returncode != 0:
        print("python: error: could not install requirements.txt into "
              f"{args.venv}; the Python rows that need them are skipped", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
