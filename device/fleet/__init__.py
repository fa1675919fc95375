"""faceterm fleet."""
