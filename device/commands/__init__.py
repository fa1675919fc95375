"""Sub-commands of `faceterm`; each module defines register(subparsers) and sets a handler."""
