/* Row-major SGEMM, C = alpha * op(A) * op(B) + beta * C (IBackend.Gemm), tiled through local memory:
 * a work-group of GEMM_THREADS x GEMM_THREADS items computes a GEMM_TILE x GEMM_TILE block of C, each
 * item a GEMM_WORK x GEMM_WORK register block strided by GEMM_THREADS (so neighbouring items touch
 * neighbouring addresses), stepping through K in slices of GEMM_K staged in local memory. Edges are
 * zero-padded in the staged tiles and masked on the store, so any M, N, K, leading dimension and
 * offset work. beta = 0 never reads C. CPU reference: Cpu/Sgemm.cs.
 * Launch: global (ceil(N/TILE)*THREADS, ceil(M/TILE)*THREADS), local (THREADS, THREADS). */
#include "portability.h"

#define GEMM_THREADS 16
#define GEMM_WORK 4
#define GEMM_TILE (GEMM_THREADS * GEMM_WORK)
#define GEMM_K 16
/* One padding column keeps a column walk of the tiles off a single memory bank. */
#define GEMM_PAD 1

KERNEL void gemm(int transposeA, int transposeB, int m, int n, int k, float alpha,
                 GLOBAL const float* a, i64 aOffset, int lda, GLOBAL const float* b, i64 bOffset, int ldb,
                 float beta, GLOBAL float* c, i64 cOffset, int ldc)
{
    LOCAL float tileA[GEMM_K][GEMM_TILE + GEMM_PAD];
    LOCAL float tileB[GEMM_K][GEMM_TILE + GEMM_PAD];
    int tx = LOCAL_ID(0), ty = LOCAL_ID(1), t = ty * GEMM_THREADS + tx;
    int row0 = (int)GROUP_ID(1) * GEMM_TILE, col0 = (int)GROUP_ID(0) * GEMM_TILE;
    a += aOffset;
    b += bOffset;
    c += cOffset;

    float acc[GEMM_WORK][GEMM_WORK];
    for (int i = 0; i < GEMM_WORK; i++)
        for (int j = 0; j < GEMM_WORK; j++) acc[i][j] = 0.0f;

    for (int p0 = 0; p0 < k; p0 += GEMM_K)
    {
        /* Stage op(A)[row0.., p0..] and op(B)[p0.., col0..]; consecutive items read consecutive addresses. */
        for (int e = t; e < GEMM_TILE * GEMM_K; e += GEMM_THREADS * GEMM_THREADS)
        {
            int i, p;
            if (transposeA) { p = e / GEMM_TILE; i = e % GEMM_TILE; }
            else { i = e / GEMM_K; p = e % GEMM_K; }
            int gi = row0 + i, gp = p0 + p;
            float v = 0.0f;
            if (gi < m && gp < k) v = transposeA ? a[(i64)gp * lda + gi] : a[(i64)gi * lda + gp];
            tileA[p][i] = v;

            int j;
            if (transposeB) { j = e / GEMM_K; p = e % GEMM_K; }
            else { p = e / GEMM_TILE; j = e % GEMM_TILE; }
            int gj = col0 + j;
            gp = p0 + p;
            float w = 0.0f;
            if (gj < n && gp < k) w = transposeB ? b[(i64)gj * ldb + gp] : b[(i64)gp * ldb + gj];
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
