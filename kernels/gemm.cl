/* Row-major SGEMM, C = alpha * op(A) * op(B) + beta * C (IBackend.Gemm), tiled through local memory:
 * a work-group of GEMM_THREADS x GEMM_THREADS items computes a GEMM_TILE x GEMM_TILE block of C, each
 * item a GEMM_WORK x GEMM_WORK register block strided by GEMM_THREADS (so neighbouring items touch
 * neighbouring addresses), stepping through K in slices of GEMM_K staged in local memory. Edges are
 * zero-padded in the staged tiles and masked on the store, so any M, N, K, leading dimension and
 * offset work. beta = 0 never reads C. CPU reference: Cpu/Sgemm.cs.
 *
 * Split K: work-groups along dimension 2 take slices [z*kChunk, (z+1)*kChunk) of K and write their
 * partial products to C + z*splitStride (the host passes alpha 1, beta 0 and a scratch C, then adds the
 * slices in order with gemm_sum_splits), so a product with few output tiles and a long K (a weight
 * gradient) still fills the device. One slice: kChunk = K, splitStride = 0.
 * Launch: global (ceil(N/TILE)*THREADS, ceil(M/TILE)*THREADS, splits), local (THREADS, THREADS, 1). */
#include "portability.h"

#define GEMM_THREADS 16
#define GEMM_WORK 4
#define GEMM_TILE (GEMM_THREADS * GEMM_WORK)
#define GEMM_K 16
/* One padding column keeps a column walk of the tiles off a single memory bank. */
#define GEMM_PAD 1

KERNEL void gemm(int transposeA, int transposeB, int m, int n, int k, float alpha,
                 GLOBAL const float* a, i64 aOffset, int lda, GLOBAL const float* b, i64 bOffset, int ldb,
                 float beta, GLOBAL float* c, i64 cOffset, int ldc, int kChunk, i64 splitStride)
{
    LOCAL float tileA[GEMM_K][GEMM_TILE + GEMM_PAD];
    LOCAL float tileB[GEMM_K][GEMM_TILE + GEMM_PAD];
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1), t = ty * GEMM_THREADS + tx;
    int row0 = (int)GROUP_ID(1) * GEMM_TILE, col0 = (int)GROUP_ID(0) * GEMM_TILE;
    a += aOffset;
    b += bOffset;
    int kBegin = (int)GROUP_ID(2) * kChunk, kEnd = k - kBegin < kChunk ? k : kBegin + kChunk;
    c += cOffset + GROUP_ID(2) * splitStride;

    float acc[GEMM_WORK][GEMM_WORK];
    for (int i = 0; i < GEMM_WORK; i++)
        for (int j = 0; j < GEMM_WORK; j++) acc[i][j] = 0.0f;

    for (int p0 = kBegin; p0 < kEnd; p0 += GEMM_K)
    {
        /* Stage op(A)[row0.., p0..] and op(B)[p0.., col0..]; consecutive items read consecutive addresses. */
        for (int e = t; e < GEMM_TILE * GEMM_K; e += GEMM_THREADS * GEMM_THREADS)
        {
            int i, p;
            if (transposeA) { p = e / GEMM_TILE; i = e % GEMM_TILE; }
            else { i = e / GEMM_K; p = e % GEMM_K; }
            int gi = row0 + i, gp = p0 + p;
            float v = 0.0f;
            if (gi < m && gp < kEnd) v = transposeA ? a[(i64)gp * lda + gi] : a[(i64)gi * lda + gp];
            tileA[p][i] = v;

            int j;
            if (transposeB) { j = e / GEMM_K; p = e % GEMM_K; }
            else { p = e / GEMM_TILE; j = e % GEMM_TILE; }
            int gj = col0 + j;
            gp = p0 + p;
            float w = 0.0f;
            if (gj < n && gp < kEnd) w = transposeB ? b[(i64)gj * ldb + gp] : b[(i64)gp * ldb + gj];
            tileB[p][j] = w;
        }
        BARRIER();
        for (int p = 0; p < GEMM_K; p++)
        {
            float ra[GEMM_WORK], rb[GEMM_WORK];
            for (int i = 0; i < GEMM_WORK; i++) ra[i] = tileA[p][ty + i * GEMM_THREADS];
            for (int j = 0; j < GEMM_WORK; j++) rb[j] = tileB[p][tx + j * GEMM_THREADS];
            for (int i = 0; i < GEMM_WORK; i++)
                for (int j = 0; j < GEMM_WORK; j++) acc[i][j] = MAD(ra[i], rb[j], acc[i][j]);
        }
        BARRIER();
    }

    for (int i = 0; i < GEMM_WORK; i++)
    {
        int gi = row0 + ty + i * GEMM_THREADS;
        if (gi >= m) continue;
        for (int j = 0; j < GEMM_WORK; j++)
        {
            int gj = col0 + tx + j * GEMM_THREADS;
            if (gj >= n) continue;
            i64 at = (i64)gi * ldc + gj;
            c[at] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * c[at];
        }
    }
}

/* The same product for devices that run work-groups as loops on CPU cores (PoCL): no local memory and
 * no barriers (which such drivers implement by spilling every item's registers), and a register block
 * the compiler can turn into SIMD within one item: item (x, y) owns rows [6y, 6y+6) and columns
 * [16x, 16x+16) of C, so each step of K is a 16-wide load of a row of B and six broadcasts of A (the
 * shape of the CPU backend's 6x16 micro-kernel).
 * Items on the right or bottom edge take the general path with clamped indices.
 * Split K as in gemm. Launch: global (roundup(ceil(N/STRIP_COLS), L), ceil(M/STRIP_ROWS), splits), local (L, 1, 1), any L. */
#define STRIP_ROWS 6
#define STRIP_COLS 16

KERNEL void gemm_strips(int transposeA, int transposeB, int m, int n, int k, float alpha,
                        GLOBAL const float* a, i64 aOffset, int lda, GLOBAL const float* b, i64 bOffset, int ldb,
                        float beta, GLOBAL float* c, i64 cOffset, int ldc, int kChunk, i64 splitStride)
{
    int j0 = (int)GLOBAL_ID(0) * STRIP_COLS, i0 = (int)GLOBAL_ID(1) * STRIP_ROWS;
    if (j0 >= n || i0 >= m) return;
    a += aOffset;
    b += bOffset;
    int kBegin = (int)GROUP_ID(2) * kChunk, kEnd = k - kBegin < kChunk ? k : kBegin + kChunk;
    c += cOffset + GROUP_ID(2) * splitStride;
    i64 rowStep = transposeA ? 1 : lda, depthStep = transposeA ? lda : 1;
    i64 rows[STRIP_ROWS];
    for (int r = 0; r < STRIP_ROWS; r++) rows[r] = (i64)(i0 + r < m ? i0 + r : m - 1) * rowStep;
    float acc[STRIP_ROWS][STRIP_COLS];
    for (int r = 0; r < STRIP_ROWS; r++)
        for (int q = 0; q < STRIP_COLS; q++) acc[r][q] = 0.0f;
    if (!transposeB && j0 + STRIP_COLS <= n)
    {
        for (int p = kBegin; p < kEnd; p++)
        {
            GLOBAL const float* bp = b + (i64)p * ldb + j0;
            i64 depth = (i64)p * depthStep;
            for (int r = 0; r < STRIP_ROWS; r++)
            {
                float v = a[rows[r] + depth];
                for (int q = 0; q < STRIP_COLS; q++) acc[r][q] = MAD(v, bp[q], acc[r][q]);
            }
        }
    }
    else
    {
        for (int p = kBegin; p < kEnd; p++)
        {
            i64 depth = (i64)p * depthStep;
            for (int r = 0; r < STRIP_ROWS; r++)
            {
                float v = a[rows[r] + depth];
                for (int q = 0; q < STRIP_COLS; q++)
                {
                    int jj = j0 + q < n ? j0 + q : n - 1;
                    acc[r][q] = MAD(v, transposeB ? b[(i64)jj * ldb + p] : b[(i64)p * ldb + jj], acc[r][q]);
                }
            }
        }
    }
    for (int r = 0; r < STRIP_ROWS && i0 + r < m; r++)
        for (int q = 0; q < STRIP_COLS && j0 + q < n; q++)
        {
            i64 at = (i64)(i0 + r) * ldc + j0 + q;
            c[at] = beta == 0.0f ? alpha * acc[r][q] : alpha * acc[r][q] + beta * c[at];
        }
}

/* C = alpha * (sum of the split-K slices, in slice order) + beta * C; slices are m x n, packed. */
KERNEL void gemm_sum_splits(GLOBAL const float* partial, int splits, int m, int n, float alpha, float beta,
                            GLOBAL float* c, i64 cOffset, int ldc)
{
    i64 total = (i64)m * n;
    FOR_EACH(e, total)
    {
        float sum = 0.0f;
        for (int z = 0; z < splits; z++) sum += partial[z * total + e];
        i64 at = cOffset + (e / n) * ldc + e % n;
        c[at] = beta == 0.0f ? alpha * sum : alpha * sum + beta * c[at];
    }
}
