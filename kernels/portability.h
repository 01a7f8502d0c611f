/*
 * portability.h: the few spellings that differ between OpenCL C 1.2 and CUDA C++ (NVRTC), so every
 * kernel in this folder is written once and compiled for both (CLBlast's approach). Kernels use only
 * these macros for qualifiers, work-item indices, barriers and math; no generic address space, no
 * sub-groups, no atomics. Sums accumulate in acc_t: double where the device has it (CUDA always,
 * OpenCL with cl_khr_fp64), as the CPU reference does, else float; reductions run in a fixed
 * two-stage order, so results never depend on scheduling.
 *
 * Launch convention: a kernel's work-group size is its LOCAL_SIZE; reductions assume a power-of-two
 * work-group of REDUCE_GROUP items in dimension 0 (the host launches them so).
 */
#ifndef NOISEKD_PORTABILITY_H
#define NOISEKD_PORTABILITY_H

#define REDUCE_GROUP 256

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)

/* CUDA C++ through NVRTC (Cuda/Nvrtc.cs). Contraction is off there by the option --fmad=false, the
 * counterpart of FP_CONTRACT OFF below. The host launches block = local size, grid = global / local
 * (Cuda/CudaLaunch.cs), so the index macros read blockIdx/threadIdx/blockDim/gridDim as OpenCL's
 * get_group_id/get_local_id/get_local_size/get_num_groups. NVRTC has no standard headers: the math
 * functions are built in, INFINITY is not. */

typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int u32;
typedef double acc_t;
#define U64(x) x##ULL

#define KERNEL extern "C" __global__
#define DEVICE static __device__ __forceinline__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR
#define BARRIER() __syncthreads()

#define DIM3_(v, d) ((d) == 0 ? (v).x : (d) == 1 ? (v).y : (v).z)
#define GROUP_ID(d) ((i64)DIM3_(blockIdx, d))
#define NUM_GROUPS(d) ((i64)DIM3_(gridDim, d))
#define LOCAL_ID(d) ((int)DIM3_(threadIdx, d))
#define LOCAL_SIZE(d) ((int)DIM3_(blockDim, d))
#define GLOBAL_ID(d) (GROUP_ID(d) * LOCAL_SIZE(d) + LOCAL_ID(d))
#define GLOBAL_SIZE(d) (NUM_GROUPS(d) * LOCAL_SIZE(d))

#define EXPF(x) expf(x)
#define LOGF(x) logf(x)
#define SQRTF(x) sqrtf(x)
#define TANHF(x) tanhf(x)
#define COSF(x) cosf(x)
#define FABSF(x) fabsf(x)
#define ISNAN(x) ((x) != (x))
#define MAD(a, b, c) fmaf(a, b, c)
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

#else /* OpenCL C 1.2 */

/* Contraction off: a*b + c rounds like the C# reference; kernels ask for MAD where they want it. */
#pragma OPENCL FP_CONTRACT OFF

typedef long i64;
typedef ulong u64;
typedef uint u32;
#define U64(x) x##UL
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

#define KERNEL __kernel
#define DEVICE static inline
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR __local
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)

#define GROUP_ID(d) ((i64)get_group_id(d))
#define NUM_GROUPS(d) ((i64)get_num_groups(d))
#define LOCAL_ID(d) ((int)get_local_id(d))
#define LOCAL_SIZE(d) ((int)get_local_size(d))
#define GLOBAL_ID(d) ((i64)get_global_id(d))
#define GLOBAL_SIZE(d) ((i64)get_global_size(d))

#define EXPF(x) exp(x)
#define LOGF(x) log(x)
#define SQRTF(x) sqrt(x)
#define TANHF(x) tanh(x)
#define COSF(x) cos(x)
#define FABSF(x) fabs(x)
#define ISNAN(x) isnan(x)
#define MAD(a, b, c) mad(a, b, c)

#endif

/* Grid-stride loop over [0, n): any launch size covers any n. */
#define FOR_EACH(i, n) for (i64 i = GLOBAL_ID(0); i < (n); i += GLOBAL_SIZE(0))

/* Sum of v over the work-group (dimension 0, power-of-two size); every item gets the total. */
DEVICE acc_t group_sum(LOCAL_PTR acc_t* scratch, acc_t v)
{
    int id = LOCAL_ID(0);
    scratch[id] = v;
    BARRIER();
    for (int step = LOCAL_SIZE(0) / 2; step > 0; step >>= 1)
    {
        if (id < step) scratch[id] += scratch[id + step];
        BARRIER();
    }
    acc_t total = scratch[0];
    BARRIER();
    return total;
}

/* Maximum of v over the work-group; a NaN wins, as in PyTorch's max. */
DEVICE float group_max(LOCAL_PTR float* scratch, float v)
{
    int id = LOCAL_ID(0);
    scratch[id] = v;
    BARRIER();
    for (int step = LOCAL_SIZE(0) / 2; step > 0; step >>= 1)
    {
        if (id < step)
        {
            float other = scratch[id + step];
            if (other > scratch[id] || ISNAN(other)) scratch[id] = other;
        }
        BARRIER();
    }
    float total = scratch[0];
    BARRIER();
    return total;
}

#endif
