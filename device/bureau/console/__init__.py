"""The bureau's web console (`faceterm-bureau console`): fleet, kiosks, results, export, audit."""
