"""`python -m device` is the `faceterm` command."""

import sys

from device.cli import main

sys.exit(main())
