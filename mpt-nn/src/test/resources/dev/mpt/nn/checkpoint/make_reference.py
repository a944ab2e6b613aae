# Produces reference.safetensors with the reference implementation (safetensors 0.8.0,
# numpy 2.4, ml_dtypes for bfloat16). SafetensorsTest reads it and checks every value below.
#   python3 make_reference.py
import numpy as np
import ml_dtypes
from safetensors.numpy import save_file

tensors = {
    # FP32: ordinary, negative zero, largest finite, smallest subnormal, infinity.
    "layer.weight": np.array([[1.5, -2.25, 0.1], [-0.0, 3.4028235e38, 1e-45]], dtype=np.float32),
    "layer.bias": np.array([np.inf, -1.0], dtype=np.float32),
    # FP16: one, max, smallest subnormal (2^-24), 1/3 rounded, negative two.
    "half": np.array([1.0, 65504.0, 2.0 ** -24, 1.0 / 3.0, -2.0], dtype=np.float16),
    # BF16: 1, -3.5, 1/3 rounded, 2^100, in a 2x2 matrix.
    "bf": np.array([[1.0, -3.5], [1.0 / 3.0, 2.0 ** 100]], dtype=ml_dtypes.bfloat16),
    "scalar": np.array(7.0, dtype=np.float32),
}
save_file(tensors, "reference.safetensors", metadata={"format": "np", "note": "caf\u00e9 \"q\"\n"})
