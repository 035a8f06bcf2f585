"""numpy's SIMD kernels, pinned for the suite before numpy is imported.

numpy chooses its vector kernels by the CPU it runs on, and its AVX-512 kernels of some
functions (exp, log, power) round a few results differently in the last bit from its AVX2 ones.
The golden tables (tests/golden.py) are pinned bit for bit with the AVX2 kernels, so on every
x86-64 machine the suite, and the golden files' regeneration, runs numpy without its AVX-512
ones (``NPY_DISABLE_CPU_FEATURES``, which child processes inherit). A machine without AVX2, or
of another architecture, computes other last bits: there the golden tests fail and say so.
"""

from __future__ import annotations

import os
import platform
import sys

AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"
"""numpy's AVX-512 dispatch targets (numpy 2.x names)."""

if platform.machine().lower() in {"x86_64", "amd64"}:
    if "numpy" in sys.modules and "NPY_DISABLE_CPU_FEATURES" not in os.environ:
        raise RuntimeError("tests/kernels.py must be imported before numpy, or its setting has no effect")
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", AVX512)
