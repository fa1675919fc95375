"""Evidence for two hardening choices in faceterm.service, reproduced without systemd.

MemoryDenyWriteExecute=yes: the kernel's PR_SET_MDWE (Linux 6.3+) refuses the same mappings
(writable+executable, or exec added later); the model runtime with XNNPACK, OpenCV, numpy,
cryptography and ctypes callbacks must all still work under it.

PrivateUsers=yes: inside a user namespace the video/dialout groups are unmapped ("nogroup"),
yet still grant access to group-owned device nodes.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MODELS = [REPO / "models" / name for name in ("sface_fp16.tflite",
                                             "face_detection_short_range.tflite")]

MDWE_PROBE = r"""
import ctypes, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    print("no-mdwe"); sys.exit(0)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("wx-allowed"); sys.exit(1)
except OSError:
    pass
import numpy as np, cv2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ai_edge_litert.interpreter import Interpreter
for path in sys.argv[1:]:
    interpreter = Interpreter(model_path=path, num_threads=2)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
cv2.resize(np.zeros((64, 64, 3), np.uint8), (32, 32))
Ed25519PrivateKey.generate().sign(b"decision")
callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
assert callback(1) == 2
print("ok")
"""


def test_model_runtime_works_under_memory_deny_write_execute() -> None:
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed")
    missing = [str(model) for model in MODELS if not model.exists()]
    if missing:
        pytest.skip(f"models not built: {missing}")
    result = subprocess.run([sys.executable, "-c", MDWE_PROBE, *map(str, MODELS)],
                            capture_output=True, text=True, timeout=60, check=False)
    if result.stdout.strip() == "no-mdwe":
        pytest.skip("kernel without PR_SET_MDWE (Linux < 6.3)")
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr[-2000:]
    assert "XNNPACK" in result.stderr  # the delegate really ran


def test_unmapped_supplementary_group_still_opens_group_owned_nodes() -> None:
    tools = [shutil.which(name) for name in ("setpriv", "unshare")]
    if os.geteuid() != 0 or None in tools:
        pytest.skip("needs root, setpriv and unshare")
    dialout = grp.getgrnam("dialout").gr_gid
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chmod(folder, 0o755)
        node = Path(folder) / "ttyUSB-standin"
        node.write_text("reader\n", encoding="utf-8")
        os.chown(node, 0, dialout)
        node.chmod(0o660)
        script = f'id -G; cat "{node}"'
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", f"--groups={dialout}", "--",
             "unshare", "--user", "--", "sh", "-c", script],
            capture_output=True, text=True, timeout=30, check=False)
    if "Operation not permitted" in result.stderr and "unshare" in result.stderr:
        pytest.skip("user namespaces are not available here")
    groups, content = result.stdout.splitlines()
    assert str(dialout) not in groups.split()  # the group is not mapped in the namespace...
    assert content == "reader"  # ...and still opens the node
