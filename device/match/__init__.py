"""faceterm match."""
