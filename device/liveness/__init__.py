"""faceterm liveness: is the face in front of the camera a live person?

api.py (LivenessProbe, the session's entry) wires challenge.py (random actions against a
per-person baseline), flash.py (screen-colour reflection), passive.py (moire, frame edges, glare),
antispoof.py (optional model slot) and measures.py into policy.py (a pure decision).
synth.py, scenes.py and evaluate.py make and score SYNTHETIC sessions (`faceterm eval liveness`).
"""
