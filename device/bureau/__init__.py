"""faceterm bureau."""
