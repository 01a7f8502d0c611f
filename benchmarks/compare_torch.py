#!/usr/bin/env python3
"""Side-by-side timings: NoiseKD.Native (`noisekd bench`) against PyTorch on the same cores, or on the same GPU.

Run from the repository root with Debian's PyTorch:  /usr/bin/python3 benchmarks/compare_torch.py [--steps K] [--threads N] [--only NAME]
  [--openblas DIR]  also runs PyTorch with Debian's OpenBLAS first on the loader path (DIR as in RESULTS.md's recipe).
On the CPU the table also has ONNX Runtime 1.31.1 for the inference rows (the benchmarks project's `ort-infer`, on a graph
that torch.onnx exports from tests/parity/models.py), each side's ratio to the fastest peer, our achieved GFLOP/s as a share
of the FMA peak measured at the start of the same run (`fma-peak`), and the CPU's vector features. Build first:
  dotnet build src/NoiseKD.Cli -c Release && dotnet build benchmarks/NoiseKD.Benchmarks -c Release
NOISEKD_CPU_VECTOR=avx2 in the environment runs our side on the 256-bit path of an AVX-512 CPU.
On a CUDA machine:  python3 benchmarks/compare_torch.py --device cuda --noisekd /tmp/nk/noisekd  (PyTorch with cuDNN,
cudnn.benchmark on; both sides synchronize the device before reading the clock; PyTorch's peak is GPU memory allocated,
ours is the process's host memory). benchmarks/gpu/run-on-device.sh runs it so.
Each configuration runs in its own process (ours: `noisekd bench`; PyTorch: this script with --torch-worker),
so peak resident memory is per configuration. Times are the median of K steps after warm-up; ratio = ours / PyTorch
(lower is better). SGEMM uses torch.mm, which is only a fair yardstick when torch is linked to an optimized BLAS
(Debian's python3-torch links the reference BLAS; see RESULTS.md for running it against OpenBLAS).
"""
import argparse, json, os, resource, statistics, subprocess, sys, time

CONFIGS = [
    # name, arch, width, batch, input CxHxW, mode, teacher arch, teacher width
    ("resnet18-cifar-train", "resnet18", 1.0, 64, (3, 32, 32), "train", None, None),
    ("mobilenetv2-cifar-train", "mobilenetv2", 1.0, 64, (3, 32, 32), "train", None, None),
    ("resnet18-w0.25-fmnist-train", "resnet18", 0.25, 128, (1, 28, 28), "train", None, None),
    ("noise-kd-step-r34cs-r18", "resnet18", 0.25, 256, (1, 28, 28), "distill", "resnet34", 0.25),
    ("resnet34-w0.25-cifar-train", "resnet34", 0.25, 64, (3, 32, 32), "train", None, None),
    # The students users deploy: latency (batch 1) and throughput (batch 256); ONNX Runtime runs these too.
    ("resnet18-w0.25-infer-b1", "resnet18", 0.25, 1, (1, 28, 28), "infer", None, None),
    ("resnet18-w0.25-infer-b256", "resnet18", 0.25, 256, (1, 28, 28), "infer", None, None),
    ("mobilenetv2-w0.5-infer-b1", "mobilenetv2", 0.5, 1, (1, 28, 28), "infer", None, None),
    ("mobilenetv2-w0.5-infer-b256", "mobilenetv2", 0.5, 256, (1, 28, 28), "infer", None, None),
]
BENCH_DLL = "benchmarks/NoiseKD.Benchmarks/bin/Release/net10.0/NoiseKD.Benchmarks.dll"
# Larger CIFAR-sized configurations only a GPU runs in reasonable time (added to CONFIGS with --device cuda).
GPU_CONFIGS = [
    ("resnet18-cifar-b128-train", "resnet18", 1.0, 128, (3, 32, 32), "train", None, None),
    ("noise-kd-step-r34-r18-cifar-b128", "resnet18", 1.0, 128, (3, 32, 32), "distill", "resnet34", 1.0),
]
SGEMM_SIZES = [1024, 2048]


def configs(device):
    return CONFIGS + (GPU_CONFIGS if device == "cuda" else [])


def synchronize(device):
    import torch
    if device == "cuda": torch.cuda.synchronize()


def torch_worker(args):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "parity"))
    import models
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    dev = args.device
    if dev == "cuda": torch.backends.cudnn.benchmark = True
    if args.sgemm:
        n = args.sgemm
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        for _ in range(2): torch.mm(a, b)
        times = []
        for _ in range(args.steps):
            synchronize(dev); t = time.perf_counter(); torch.mm(a, b); synchronize(dev); times.append(time.perf_counter() - t)
        med = statistics.median(times)
        print(json.dumps({"ms_per_step": med * 1e3, "gflops": 2 * n ** 3 / med / 1e9, "peak_mb": peak_mb(dev)}))
        return
    name, arch, width, batch, shape, mode, t_arch, t_width = next(c for c in configs(dev) if c[0] == args.config)
    c, h, w = shape
    model = models.create(arch, width, c, 10, h).to(dev)
    if args.export_onnx:  # the graph ONNX Runtime times: the same network, batch dimension left free
        model.eval()
        torch.onnx.export(model, torch.randn(1, c, h, w), args.export_onnx, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)
        print(json.dumps({"exported": args.export_onnx}))
        return
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    teacher = None
    if mode == "distill":
        teacher = models.create(t_arch, t_width, c, 10, h).to(dev)
        teacher.train()  # current batch statistics, as noise KD runs the teacher
        for p in teacher.parameters(): p.requires_grad_(False)
    labels = (torch.arange(batch) % 10).to(dev)

    def step():
        x = torch.randn(batch, c, h, w, device=dev)
        if mode == "infer":
            with torch.no_grad(): model.eval(); model(x)
            return
        if teacher is not None:
            with torch.no_grad(): t = teacher(x)
            s = model(x)
            loss = -(F.softmax(t, 1) * F.log_softmax(s, 1)).sum(1).mean()
        else:
            loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(); loss.backward(); opt.step()

    for _ in range(2): step()
    times = []
    for _ in range(args.steps):
        synchronize(dev); t = time.perf_counter(); step(); synchronize(dev); times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(json.dumps({"ms_per_step": med * 1e3, "images_per_s": batch / med, "peak_mb": peak_mb(dev)}))


def peak_mb(device="cpu"):
    if device == "cuda":
        import torch
        return torch.cuda.max_memory_allocated() / 1048576.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.strip().splitlines()
    return json.loads(out[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--only", default=None)
    p.add_argument("--torch-worker", action="store_true")
    p.add_argument("--config")
    p.add_argument("--sgemm", type=int)
    p.add_argument("--export-onnx")
    p.add_argument("--openblas", help="folder of Debian's libopenblas0-pthread (see RESULTS.md) for a PyTorch + OpenBLAS column")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--noisekd", default="./noisekd", help="the noisekd program (a published build on a machine without .NET)")
    args = p.parse_args()
    if args.torch_worker:
        torch_worker(args); return

    cpu = args.device == "cpu"
    peak = run_json(["dotnet", BENCH_DLL, "fma-peak", str(args.threads)]) if cpu else None
    openblas_env = None
    if args.openblas:
        openblas_env = dict(os.environ, LD_LIBRARY_PATH=args.openblas, OPENBLAS_NUM_THREADS=str(args.threads))
    rows = []
    me = [sys.executable, __file__, "--torch-worker", "--steps", str(args.steps), "--threads", str(args.threads), "--device", args.device]
    for name, arch, width, batch, (c, h, w), mode, t_arch, t_width in configs(args.device):
        if args.only and args.only not in name: continue
        ours_cmd = [args.noisekd, "bench", "--arch", arch, "--width", str(width), "--batch-size", str(batch), "--input", f"{c}x{h}x{w}",
                    "--steps", str(args.steps), "--mode", mode, "--threads", str(args.threads), "--device", args.device]
        if t_arch: ours_cmd += ["--teacher-arch", t_arch, "--teacher-width", str(t_width)]
        ours = run_json(ours_cmd)
        peers = {"torch": run_json(me + ["--config", name])}
        if openblas_env: peers["torch+OB"] = run_json(me + ["--config", name], env=openblas_env)
        if mode == "infer" and cpu:
            path = f"/tmp/noisekd-compare-{name}.onnx"
            run_json(me + ["--config", name, "--export-onnx", path])
            peers["ORT"] = run_json(["dotnet", BENCH_DLL, "ort-infer", path, str(batch), f"{c}x{h}x{w}", str(args.steps), str(args.threads)])
        rows.append((name, ours, peers, ours.get("gflops"), ours.get("cpu_vector")))
    if not args.only or "sgemm" in args.only:
        for n in SGEMM_SIZES:
            if args.device == "cuda":  # the SGEMM primitive on the device, through the command line
                ours = run_json([args.noisekd, "bench", "--device", "cuda", "--gemm", str(n), "--steps", str(args.steps)])
                ours["ms_per_step"] = ours["ms"]
            else:
                ours = run_json(["dotnet", BENCH_DLL, "sgemm-json", str(n), str(args.steps)])
            peers = {"torch": run_json(me + ["--sgemm", str(n)])}
            if openblas_env: peers["torch+OB"] = run_json(me + ["--sgemm", str(n)], env=openblas_env)
            rows.append((f"sgemm-{n}", ours, peers, 2 * n ** 3 / (ours["ms_per_step"] / 1e3) / 1e9, ours.get("cpu_vector")))
    print_table(rows, peak, args.threads)


def print_table(rows, peak, threads):
    """One line per configuration: each side's ms (and peak MB), ours / the fastest peer, our GFLOP/s and its share of the peak."""
    peer_names = [n for n in ("torch", "torch+OB", "ORT") if any(n in peers for _, _, peers, _, _ in rows)]
    peak_gflops = max(peak["gflops_256"], peak["gflops_512"]) if peak else None
    if peak:
        print(f"CPU vector features: {peak['features']}; FMA peak on {threads} threads: {peak['gflops_256']:.0f} GFLOP/s at 256 bits, "
              + (f"{peak['gflops_512']:.0f} at 512 bits" if peak["gflops_512"] else "no 512-bit vectors"))
    header = f"{'configuration':30} {'ours ms':>9}" + "".join(f" {n + ' ms':>12}" for n in peer_names) + f" {'ours/best':>9} {'ours MB':>8}"
    header += "".join(f" {n + ' MB':>12}" for n in peer_names) + f" {'GFLOP/s':>8}" + (f" {'% peak':>7}" if peak else "") + f" {'path':>7}"
    print(header)
    for name, ours, peers, gflops, path in rows:
        o = ours["ms_per_step"]
        best = min(p["ms_per_step"] for p in peers.values())
        line = f"{name:30} {o:9.1f}" + "".join(f" {peers[n]['ms_per_step']:12.1f}" if n in peers else f" {'-':>12}" for n in peer_names)
        line += f" {o / best:9.2f} {ours.get('peak_mb', float('nan')):8.0f}"
        line += "".join(f" {peers[n]['peak_mb']:12.0f}" if n in peers else f" {'-':>12}" for n in peer_names)
        line += f" {gflops or float('nan'):8.1f}" + (f" {100 * (gflops or float('nan')) / peak_gflops:6.0f}%" if peak else "") + f" {path or '-':>7}"
        print(line)


if __name__ == "__main__":
    main()
