"""faceterm camera."""
