"""faceterm liveness."""
