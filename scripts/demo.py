"""`make run`: the end-to-end demo (see device/demo/run.py)."""

import sys

from device.demo.run import main

if __name__ == "__main__":
    sys.exit(main())
