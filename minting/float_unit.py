"""Keeping the x87 floating-point unit usable around LiteSVM.

Some transactions (creating an associated token account is one) leave LiteSVM's native code with
the x87 register stack marked in use, as MMX code that skips EMMS does. Every `long double`
computation in the process is NaN from then on, and Ray's C++ core, which sizes its hash tables
with them, dies of std::bad_alloc at its next actor creation. `clear_float_unit` runs EMMS, which
marks the stack empty again; the chain calls it after every batch it runs. Off x86-64 there is no
x87 state to leak, and it does nothing.
"""

import ctypes
import functools
import mmap
import platform

X86_64_MACHINES = frozenset({"x86_64", "AMD64"})
EMMS_THEN_RETURN = bytes([0x0F, 0x77, 0xC3])


class _Emms:
    """A function of two instructions, EMMS then return, on a page of its own kept mapped."""

    def __init__(self) -> None:
        self._page = mmap.mmap(
            -1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
        )
        self._page.write(EMMS_THEN_RETURN)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._page))
        self.run = ctypes.CFUNCTYPE(None)(address)


@functools.cache
def _emms() -> _Emms | None:
    return _Emms() if platform.machine() in X86_64_MACHINES else None


def clear_float_unit() -> None:
    emms = _emms()
    if emms is not None:
        emms.run()
