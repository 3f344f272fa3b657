/* One instantiation of ember's float gemm (see sgemm.h), for the vector width EMBER_VL (floats),
   a register tile of EMBER_MR rows by EMBER_NV vectors, and names made by EMBER_NAME(). sgemm.h
   includes this file once per instruction set, under that set's `#pragma GCC target`. */

typedef float EMBER_NAME(vec) __attribute__((vector_size(EMBER_VL * 4)));
/* the same vector at any float alignment: rows of C and of the packed panel need no alignment */
typedef float EMBER_NAME(uvec) __attribute__((vector_size(EMBER_VL * 4), aligned(4)));

#define EMBER_NR (EMBER_VL * EMBER_NV)

/* c[MR x nv*VL] (ldc) = (add ? c : 0) + a[MR x k] (lda, row-major) @ b[k x nv*VL], row p of b at
   brow[p] + col. The accumulators stay in registers for the whole k loop; each step loads nv vectors of
   b and broadcasts one value of each of the MR rows of a. Always inlined with a constant nv (1..NV), so
   each width is its own fully unrolled loop. */
static inline __attribute__((always_inline)) void
EMBER_NAME(ember_sgemm_tile)(long k, const float *restrict a, long lda, const float *const *restrict brow,
                             long col, float *restrict c, long ldc, int add, const int nv)
{
    EMBER_NAME(vec) acc[EMBER_MR][EMBER_NV];
    long p;
    int i, j;
    for (i = 0; i < EMBER_MR; i++)
        for (j = 0; j < nv; j++)
            acc[i][j] = (EMBER_NAME(vec)){0};
    for (p = 0; p < k; p++) {
        EMBER_NAME(vec) b[EMBER_NV];
        const float *bp = brow[p] + col;
        for (j = 0; j < nv; j++)
            b[j] = *(const EMBER_NAME(uvec) *)(bp + j * EMBER_VL);
        for (i = 0; i < EMBER_MR; i++) {
            float s = a[i * lda + p];
            for (j = 0; j < nv; j++)
                acc[i][j] += s * b[j];
        }
    }
    for (i = 0; i < EMBER_MR; i++)
        for (j = 0; j < nv; j++) {
            EMBER_NAME(uvec) *out = (EMBER_NAME(uvec) *)(c + i * ldc + j * EMBER_VL);
            *out = add ? *out + acc[i][j] : acc[i][j];
        }
}

static void EMBER_NAME(ember_sgemm_tiles)(long k, const float *a, long lda, const float *const *brow, long col,
                                          float *c, long ldc, int add, int nv)
{
    switch (nv) {
    case 1:
        EMBER_NAME(ember_sgemm_tile)(k, a, lda, brow, col, c, ldc, add, 1);
        break;
#if EMBER_NV > 2
    case 2:
        EMBER_NAME(ember_sgemm_tile)(k, a, lda, brow, col, c, ldc, add, 2);
        break;
#endif
    default:
        EMBER_NAME(ember_sgemm_tile)(k, a, lda, brow, col, c, ldc, add, EMBER_NV);
    }
}

/* c[m x n] = (add ? c : 0) + a[m x k] @ b[k x n]: a and c row-major with leading dimensions lda/ldc,
   row p of b at brows[p] (or, when brows is NULL, at b + p * ldb). ``work`` holds EMBER_SGEMM_WORK
   floats (any alignment). With brows, the rows must stay readable EMBER_NR - 1 floats past column n:
   the last panel reads whole vectors and keeps only what lies in c.

   Blocks of EMBER_KC steps of k; within a block, NR columns of b at a time while every MR-row strip of
   a runs over them (b's rows are read where they are: from cache, as the convolution hands them
   over). Edge tiles (rows past m, columns past n) compute into a scratch tile and copy back what lies
   inside c; without brows, the columns past n come from a zero-padded copy instead. */
static void EMBER_NAME(ember_sgemm)(long m, long n, long k, const float *a, long lda, const float *const *brows,
                                    const float *b, long ldb, int add, float *c, long ldc, float *work)
{
    /* whole cache lines for the panel: its vector loads then never straddle two */
    float *panel = (float *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    float *edge = panel + EMBER_KC * EMBER_NR;
    float *strip = edge + EMBER_MR * EMBER_NR;    /* the last rows of a, zero-padded to MR */
    const float *rows[EMBER_KC], *prows[EMBER_KC];
    const float *const *brow;
    long k0, j0, i0, p, kc, nr, mr, i, j, la, width, col;
    const float *ap;
    int acc, nv;
    for (k0 = 0; k0 < k; k0 += EMBER_KC) {
        kc = k - k0 < EMBER_KC ? k - k0 : EMBER_KC;
        acc = add || k0 > 0;
        if (brows == NULL)
            for (p = 0; p < kc; p++)
                rows[p] = b + (k0 + p) * ldb;
        for (j0 = 0; j0 < n; j0 += EMBER_NR) {
            nr = n - j0 < EMBER_NR ? n - j0 : EMBER_NR;
            nv = (int)((nr + EMBER_VL - 1) / EMBER_VL);
            width = nv * EMBER_VL;
            brow = brows != NULL ? brows + k0 : rows;
            col = j0;
            if (nr < width && brows == NULL) {
                for (p = 0; p < kc; p++) {
                    memcpy(panel + p * width, rows[p] + j0, nr * sizeof(float));
                    memset(panel + p * width + nr, 0, (width - nr) * sizeof(float));
                    prows[p] = panel + p * width;
                }
                brow = prows;
                col = 0;
            }
            for (i0 = 0; i0 < m; i0 += EMBER_MR) {
                mr = m - i0 < EMBER_MR ? m - i0 : EMBER_MR;
                ap = a + i0 * lda + k0;
                la = lda;
                if (mr < EMBER_MR) {
                    for (i = 0; i < EMBER_MR; i++)
                        if (i < mr)
                            memcpy(strip + i * EMBER_KC, ap + i * lda, kc * sizeof(float));
                        else
                            memset(strip + i * EMBER_KC, 0, kc * sizeof(float));
                    ap = strip;
                    la = EMBER_KC;
                }
                if (mr == EMBER_MR && nr == width) {
                    EMBER_NAME(ember_sgemm_tiles)(kc, ap, la, brow, col, c + i0 * ldc + j0, ldc, acc, nv);
                } else {
                    EMBER_NAME(ember_sgemm_tiles)(kc, ap, la, brow, col, edge, width, 0, nv);
                    for (i = 0; i < mr; i++)
                        for (j = 0; j < nr; j++)
                            c[(i0 + i) * ldc + j0 + j] = (acc ? c[(i0 + i) * ldc + j0 + j] : 0.0f)
                                                         + edge[i * width + j];
                }
            }
        }
    }
}

#undef EMBER_NR
