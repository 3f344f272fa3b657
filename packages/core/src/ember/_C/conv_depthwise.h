/* Convolutions whose groups each read one input channel (depthwise ones, groups == in_channels), as
   direct loops for ember/_C/conv.pyx.

   Why: im2col + gemm gives such a group a one-row gemm over a column matrix kernel-volume times the
   size of the input, written and read back once per image (115 MB for a 3x3 depthwise layer of 128
   channels at 56x56, batch 8): 1.9x PyTorch's time. Here the loops read the planes in place: the
   forward sums each output row's taps in vector registers, the weight gradient takes a dot product
   per tap; the input gradient (stride 1) is a forward with flipped kernels (conv.pyx).

   Planes are C-contiguous (D, H, W); the geometry is the convolution's, 1-D and 2-D ones with leading
   sizes of 1. Each function handles one plane, so callers split planes over threads without races. */
#ifndef EMBER_CONV_DEPTHWISE_H
#define EMBER_CONV_DEPTHWISE_H

#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define EMBER_DW_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EMBER_DW_CLONES
#endif

typedef struct {
    ptrdiff_t i[3], o[3], k[3], s[3], p[3], d[3];
} ember_dw_geo;

/* The output columns ow with 0 <= ow * s + off < iw, as [*lo, *hi). */
static inline void ember_dw_columns(ptrdiff_t off, ptrdiff_t s, ptrdiff_t iw, ptrdiff_t ow, ptrdiff_t *lo,
                                    ptrdiff_t *hi) {
    ptrdiff_t a = off < 0 ? (-off + s - 1) / s : 0;
    ptrdiff_t b = iw - off > 0 ? (iw - off - 1) / s + 1 : 0;
    if (a > ow) a = ow;
    if (b > ow) b = ow;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* The input row (or -1) that output row (od, oh) meets at kernel row (kd, kh). */
static inline ptrdiff_t ember_dw_row(const ember_dw_geo *g, ptrdiff_t od, ptrdiff_t oh, ptrdiff_t kd,
                                     ptrdiff_t kh) {
    ptrdiff_t z = od * g->s[0] - g->p[0] + kd * g->d[0];
    ptrdiff_t y = oh * g->s[1] - g->p[1] + kh * g->d[1];
    if (z < 0 || z >= g->i[0] || y < 0 || y >= g->i[1]) return -1;
    return z * g->i[1] + y;
}

/* Each kernel column's output range (ember_dw_columns), once a plane: the divisions cost more than a
   row's multiply-adds. [lo, hi) is the range they share. */
#define EMBER_DW_RANGES(g) \
    ptrdiff_t los[(g)->k[2]], his[(g)->k[2]], offs[(g)->k[2]]; \
    for (ptrdiff_t c_ = 0; c_ < (g)->k[2]; c_++) { \
        offs[c_] = c_ * (g)->d[2] - (g)->p[2]; \
        ember_dw_columns(offs[c_], (g)->s[2], (g)->i[2], (g)->o[2], &los[c_], &his[c_]); \
    } \
    ptrdiff_t lo = 0, hi = (g)->o[2]; /* the columns every kernel column reaches */ \
    for (ptrdiff_t c_ = 0; c_ < (g)->k[2]; c_++) { \
        if (los[c_] > lo) lo = los[c_]; \
        if (his[c_] < hi) hi = his[c_]; \
    } \
    if (hi < lo) hi = lo;

/* The taps that reach output row (od, oh), as n entries: input pointer at the kernel column's offset (tp),
   index in the kernel (ti) and kernel column (tk). Declares the arrays, sized for every tap. */
#define EMBER_DW_TAP_ARRAYS(T, g) \
    const T *tp[(g)->k[0] * (g)->k[1] * (g)->k[2]]; \
    ptrdiff_t ti[(g)->k[0] * (g)->k[1] * (g)->k[2]], tk[(g)->k[0] * (g)->k[1] * (g)->k[2]];
#define EMBER_DW_ROW_TAPS(g, x, od, oh) \
    n = 0; \
    for (kd = 0; kd < (g)->k[0]; kd++) \
        for (kh = 0; kh < (g)->k[1]; kh++) { \
            if ((r = ember_dw_row(g, od, oh, kd, kh)) < 0) continue; \
            for (kw = 0; kw < (g)->k[2]; kw++, n++) { \
                tp[n] = (x) + r * (g)->i[2] + offs[kw]; \
                ti[n] = (kd * (g)->k[1] + kh) * (g)->k[2] + kw; \
                tk[n] = kw; \
            } \
        }

/* Vectors of 64 bytes for the register sums (GCC lowers them to what the target has); loads and stores
   through them may be unaligned. */
typedef float ember_dw_vf __attribute__((vector_size(64), aligned(4)));
typedef double ember_dw_vd __attribute__((vector_size(64), aligned(8)));

/* The forward's interior columns from ow on, NV vectors V of T at a time, the sums held in registers
   over every tap (stride 1; other strides take the scalar loop). */
#define EMBER_DW_CHUNKS(T, V, NV) \
    for (; sw == 1 && ow + NV * (ptrdiff_t)(sizeof(V) / sizeof(T)) <= hi; \
         ow += NV * (ptrdiff_t)(sizeof(V) / sizeof(T))) { \
        V acc[NV]; \
        for (l = 0; l < NV; l++) \
            acc[l] = (V){} + bias; \
        for (t = 0; t < n; t++) { \
            const T *src = tp[t] + ow; \
            T v = tw[t]; \
            for (l = 0; l < NV; l++) acc[l] += v * *(const V *)(src + l * (ptrdiff_t)(sizeof(V) / sizeof(T))); \
        } \
        for (l = 0; l < NV; l++) *(V *)(yr + ow + l * (ptrdiff_t)(sizeof(V) / sizeof(T))) = acc[l]; \
    }

#define EMBER_DW_KERNELS(SUFFIX, T, V) \
/* y = bias + the convolution of input plane x with the taps w: one output plane. Each output row lists \
   the taps that reach it, then \
   sums them over chunks of one or two vectors of outputs held in registers (a tap at a time over the \
   whole row would load and store the row once per tap, a chain through memory 2x slower). Columns near \
   the edges, which some kernel columns miss, go a tap at a time; strides other than 1 a column at a \
   time. */ \
EMBER_DW_CLONES static void ember_dw_forward_##SUFFIX(const T *x, const T *w, T bias, T *y, \
                                                      const ember_dw_geo *g) { \
    EMBER_DW_RANGES(g) \
    ptrdiff_t od, oh, ow, kd, kh, kw, r, t, n, l, sw = g->s[2], OW = g->o[2]; \
    EMBER_DW_TAP_ARRAYS(T, g) \
    T tw[g->k[0] * g->k[1] * g->k[2]]; \
    for (od = 0; od < g->o[0]; od++) \
        for (oh = 0; oh < g->o[1]; oh++) { \
            T *restrict yr = y + (od * g->o[1] + oh) * OW; \
            EMBER_DW_ROW_TAPS(g, x, od, oh) \
            for (t = 0; t < n; t++) tw[t] = w[ti[t]]; \
            /* the edge columns, [0, lo) and [hi, OW): each tap adds to the ones it reaches */ \
            for (ow = 0; ow < lo; ow++) yr[ow] = bias; \
            for (ow = hi; ow < OW; ow++) yr[ow] = bias; \
            for (t = 0; t < n; t++) { \
                ptrdiff_t a = los[tk[t]], b = his[tk[t]]; \
                for (ow = a; ow < lo && ow < b; ow++) yr[ow] += tw[t] * tp[t][ow * sw]; \
                for (ow = hi > a ? hi : a; ow < b; ow++) yr[ow] += tw[t] * tp[t][ow * sw]; \
            } \
            ow = lo; \
            EMBER_DW_CHUNKS(T, V, 2) \
            EMBER_DW_CHUNKS(T, V, 1) \
            /* the last few: a vector ending at hi, recomputing (to the same values) some before it */ \
            if (sw == 1 && ow < hi && hi - lo >= (ptrdiff_t)(sizeof(V) / sizeof(T))) { \
                ow = hi - (ptrdiff_t)(sizeof(V) / sizeof(T)); \
                EMBER_DW_CHUNKS(T, V, 1) \
            } \
            for (; ow < hi; ow++) { \
                T acc = bias; \
                for (t = 0; t < n; t++) acc += tw[t] * tp[t][ow * sw]; \
                yr[ow] = acc; \
            } \
        } \
} \
/* gw[tap] += sum of gy * (x at the tap) over one image's plane (one output channel) of a stride-1 \
   convolution: for each tap, a dot product of the output rows it reaches with the input rows it reads \
   (both planes stay in L1) in two vector accumulators, added up in double at the end. */ \
EMBER_DW_CLONES static void ember_dw_backward_weight_##SUFFIX(const T *gy, const T *x, double *gw, \
                                                              const ember_dw_geo *g) { \
    EMBER_DW_RANGES(g) \
    ptrdiff_t od, oh, ow, kd, kh, kw, r, l, a, b, OW = g->o[2], IW = g->i[2]; \
    const ptrdiff_t VL = (ptrdiff_t)(sizeof(V) / sizeof(T)); \
    for (kd = 0; kd < g->k[0]; kd++) \
        for (kh = 0; kh < g->k[1]; kh++) \
            for (kw = 0; kw < g->k[2]; kw++) { \
                V acc0 = (V){}, acc1 = (V){}; \
                T part[8] = {0}; \
                a = los[kw], b = his[kw]; \
                for (od = 0; od < g->o[0]; od++) \
                    for (oh = 0; oh < g->o[1]; oh++) { \
                        if ((r = ember_dw_row(g, od, oh, kd, kh)) < 0) continue; \
                        const T *gr = gy + (od * g->o[1] + oh) * OW; \
                        const T *xr = x + r * IW + offs[kw]; \
                        for (ow = a; ow + 2 * VL <= b; ow += 2 * VL) { \
                            acc0 += *(const V *)(gr + ow) * *(const V *)(xr + ow); \
                            acc1 += *(const V *)(gr + ow + VL) * *(const V *)(xr + ow + VL); \
                        } \
                        for (; ow + VL <= b; ow += VL) acc0 += *(const V *)(gr + ow) * *(const V *)(xr + ow); \
                        for (l = 0; ow < b; ow++, l++) part[l & 7] += gr[ow] * xr[ow]; \
                    } \
                double total = 0; \
                for (l = 0; l < VL; l++) total += (double)acc0[l] + acc1[l]; \
                for (l = 0; l < 8; l++) total += part[l]; \
                gw[(kd * g->k[1] + kh) * g->k[2] + kw] += total; \
            } \
}

EMBER_DW_KERNELS(f, float, ember_dw_vf)
EMBER_DW_KERNELS(d, double, ember_dw_vd)

#endif
