"""faceterm liveness: is the face in front of the camera a live person?

api.py (LivenessProbe, the session's entry) wires challenge.py (random actions against a
per-person baseline), flash.py (screen-colour reflection), passive.py (moire, frame edges, glare),
antispoof.py (optional model slot) and measures.py into policy.py (a pure decision).
planar.py is the 3-D check (planar_motion). harness.py runs whole sessions of any scene through
the production loop; evaluate.py scores SYNTHETIC bona fide scenes (synth.py, scenes.py) with
it, puppet.py / puppet_eval.py bona fide sessions made of real labelled footage (footage.py),
attack_eval.py SYNTHETIC attacks rendered from physics over that footage (instruments.py,
displays.py, attack_scenes.py; attack_frames.py single frames of them), and footage_eval.py the
action detectors on that footage (docs/liveness-evidence.md).
"""
