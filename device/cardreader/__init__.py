"""faceterm cardreader."""
