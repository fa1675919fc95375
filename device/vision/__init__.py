"""faceterm vision."""
