"""Times torch.mm (OpenBLAS on this CPU build) at the SGEMM sizes NoiseKD's quick benchmark uses.

Debian's torch calls whatever libblas.so.3 the loader finds, which here is the reference (netlib)
BLAS at ~5 GFLOP/s. To time OpenBLAS without changing the system's BLAS alternative, unpack the
Debian package beside it and put it first on the loader path:

    apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas
    LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread \
        /usr/bin/python3 benchmarks/sgemm_openblas.py

Prints the BLAS library actually loaded, then GFLOP/s = 2*n^3 / median time with two threads
(the machine's core count).
"""
import statistics
import time

import torch

torch.set_num_threads(2)


def median_seconds(fn, repeats):
    for _ in range(3):  # warm-up: thread pool start, page faults, caches
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def loaded_blas():
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line}
    return ", ".join(sorted(paths)) or "none found"


torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # make sure the BLAS is loaded before reporting it
print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, BLAS: {loaded_blas()}")
print(f"{'size':>6} {'median ms':>10} {'GFLOP/s':>8}")
for n in (256, 512, 1024, 2048):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    c = torch.empty(n, n)
    repeats = max(5, int(2e9 / (2 * n ** 3)))
    t = median_seconds(lambda: torch.mm(a, b, out=c), repeats)
    print(f"{n:>6} {t * 1e3:>10.3f} {2 * n ** 3 / t / 1e9:>8.1f}")
