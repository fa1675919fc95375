"""`python -m device.bureau` = `faceterm-bureau`."""

import sys

from device.bureau.cli import main

sys.exit(main())
