#!/usr/bin/env bash
# Prints the machine code the JIT makes of a CPU kernel for an instruction set this machine may lack
# (default x86-64-v4: AVX-512F/BW/CD/DQ/VL), so a kernel for AVX-512 can be checked for spills on an
# AVX2-only machine. The kernel file is compiled into a scratch library (with ISgemmKernel.cs and a stub of
# Sgemm's tile width) and compiled ahead of time by crossgen2, whose JIT is the runtime's;
# [MethodImpl(AggressiveOptimization)] is dropped from the copy because crossgen2 leaves such methods to the
# JIT at run time.
#   tools/jit-listing.sh [KERNEL.cs] [METHOD] [INSTRUCTION-SET]
#   tools/jit-listing.sh src/NoiseKD.Backends/Cpu/SgemmKernel512.cs Run x86-64-v4
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kernel="${1:-$root/src/NoiseKD.Backends/Cpu/SgemmKernel512.cs}"
method="${2:-Run}"
isa="${3:-x86-64-v4}"
work="$(mktemp -d /tmp/jit-listing.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# crossgen2 comes as the SDK's ReadyToRun pack; restoring an empty ReadyToRun project fetches the version the SDK picks.
mkdir -p "$work/pack" "$work/lib"
cat >"$work/pack/pack.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><RuntimeIdentifier>linux-x64</RuntimeIdentifier><PublishReadyToRun>true</PublishReadyToRun><SelfContained>false</SelfContained></PropertyGroup>
</Project>
EOF
dotnet restore "$work/pack" -v quiet >/dev/null
crossgen="$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.netcore.app.crossgen2.linux-x64" -name crossgen2 -type f | sort -V | tail -1)"
framework="$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2; d = $3 } END { gsub(/[][]/, "", d); print d "/" v "/" }')"

cat >"$work/lib/lib.csproj" <<'EOF'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><AllowUnsafeBlocks>true</AllowUnsafeBlocks><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable><NoWarn>CS8500</NoWarn></PropertyGroup>
</Project>
EOF
sed 's/\[MethodImpl(MethodImplOptions.AggressiveOptimization)\]//' "$kernel" >"$work/lib/Kernel.cs"
cp "$root/src/NoiseKD.Backends/Cpu/ISgemmKernel.cs" "$work/lib/"
# What the kernel uses of Sgemm itself, without the rest of the backend.
cat >"$work/lib/Sgemm.cs" <<'EOF'
namespace NoiseKD.Backends.Cpu;
internal static unsafe class Sgemm
{
    internal const int NR = 16;
    internal static void MergeEdge(int mr, int nr, float* tile, int tileColumns, float beta, float* c, int ldc) { }
}
EOF
dotnet build "$work/lib" -c Release -v quiet -o "$work/lib/out" >/dev/null
"$crossgen" "$work/lib/out/lib.dll" -r "$framework*.dll" --targetos linux --targetarch x64 --instruction-set "$isa" -O \
    --codegenopt "JitDisasm=$method" --codegenopt "JitStdOutFile=$work/listing.txt" -o "$work/lib.r2r.dll" >/dev/null
cat "$work/listing.txt"
