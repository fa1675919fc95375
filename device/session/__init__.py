"""faceterm session."""
