/* ember's float gemm for the convolution forward (ember/_C/conv.pyx).

   Why not BLAS: on the AMD Zen 4 machines ember is benchmarked on, OpenBLAS's sgemm (its SkylakeX
   kernel) reaches 95-100 GF/s per core on the forward's shapes, and it packs both operands on every
   call although the convolution's column tile already sits in cache. This register-tiled kernel,
   written with GCC's vector extensions and compiled for AVX-512 and for AVX2+FMA, reaches 103-115 GF/s
   there (the core's peak is about 116) and reads both operands where they are. Elsewhere (another
   compiler or CPU) the level is 0 and the caller keeps BLAS. */
#ifndef EMBER_SGEMM_H
#define EMBER_SGEMM_H

#include <stdint.h>
#include <string.h>

#define EMBER_KC 256
/* floats of workspace one call needs: the panel (KC x NR), an edge tile (MR x NR), an edge strip of a
   (MR x KC), at the largest NR (48) and MR (8) below, and room to align the panel to 64 bytes */
#define EMBER_SGEMM_WORK (EMBER_KC * 48 + 8 * 48 + 8 * EMBER_KC + 16)

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define EMBER_SGEMM_X86 1

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define EMBER_VL 8
#define EMBER_MR 6
#define EMBER_NV 2
#define EMBER_NAME(name) name##_avx2
#include "sgemm_impl.h"
#undef EMBER_VL
#undef EMBER_MR
#undef EMBER_NV
#undef EMBER_NAME
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#define EMBER_VL 16
#define EMBER_MR 8
#define EMBER_NV 3
#define EMBER_NAME(name) name##_avx512
#include "sgemm_impl.h"
#undef EMBER_VL
#undef EMBER_MR
#undef EMBER_NV
#undef EMBER_NAME
#pragma GCC pop_options
#endif

/* The best kernel this CPU runs: 2 AVX-512, 1 AVX2+FMA, 0 none (use BLAS). */
static int ember_sgemm_level(void)
{
#ifdef EMBER_SGEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return 1;
#endif
    return 0;
}

/* c = (add ? c : 0) + a @ b (m x k times k x n; a and c row-major, b's row p at brows[p] or, when brows
   is NULL, at b + p * ldb) with kernel ``level`` (1 or 2). See sgemm_impl.h. */
static void ember_sgemm(int level, long m, long n, long k, const float *a, long lda, const float *const *brows,
                        const float *b, long ldb, int add, float *c, long ldc, float *work)
{
#ifdef EMBER_SGEMM_X86
    if (level >= 2)
        ember_sgemm_avx512(m, n, k, a, lda, brows, b, ldb, add, c, ldc, work);
    else if (level == 1)
        ember_sgemm_avx2(m, n, k, a, lda, brows, b, ldb, add, c, ldc, work);
#endif
}

#endif
