"""faceterm ui."""
