"""faceterm publish."""
