"""Recurrent layers: one layer and direction of an RNN / LSTM / GRU over a whole sequence, forward and
backward, with the time loop, the per-step gemm and the fused gate nonlinearities all in C.

Layout (ember/kernels/rnn.py prepares it): a sequence is N rows in time-major packed order, step t
holding ``sizes[t]`` rows (non-increasing: 0.2's packed sequences; a padded T x B batch is T steps of B).
The running states ``h`` / ``c`` (B x H) hold each sequence's state; at a step the first ``sizes[t]``
rows advance and the others keep theirs, which gives every sequence its own final state and, run in
reverse, starts every sequence from its initial state when it joins.

    forward   g (N x G) holds x @ W_ih^T + biases on entry; per step: hprev <- h, g += hprev @ W_hh^T
              (GRU: the n gate's hidden part goes to hn instead), then one fused pass computes the gates
              in place (g then holds the activations kept for backward), the new c and h, and the output.
    backward  per step, in the opposite order: one fused pass gives the pre-activation gradients dg
              (GRU: plus dghn, the n gate's hidden part, which the reset gate scales), then dh <- dg @ W_hh.
The weight gradients are then single gemms over the whole sequence (``mm``), done by the caller.

Gate order is PyTorch's: LSTM (i, f, g, o), GRU (r, z, n). Float uses exp/tanh written so that the
gate loops vectorise (Cephes' polynomials, ~1-2 ulp); double uses the C library's.

Threads: one OpenMP team per call; each step (phase) is cut into chunks of hidden units that the threads
claim from an atomic counter, and a thread waits only until the phase's chunks are all done. There is no
barrier where every thread must arrive, so on a busy machine a descheduled thread delays at most the chunk
it holds (a barrier per step made a 2-thread LSTM 5-10x slower under load). The gemms are scipy's BLAS
(scipy.linalg.cython_blas), single-threaded inside the team, called without the GIL.
"""
from cython cimport floating
from cython.parallel cimport parallel
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy
from posix.dlfcn cimport RTLD_LAZY, dlopen, dlsym
from scipy.linalg.cython_blas cimport dgemm, sgemm

ctypedef Py_ssize_t intp

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #include <math.h>
    #if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && defined(__linux__)
    #define EMBER_RNN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_RNN_CLONES
    #endif
    #ifdef _OPENMP
    #define EMBER_RNN_SIMD _Pragma("omp simd")
    #else
    #define EMBER_RNN_SIMD
    #endif

    /* Cephes expf: x = n ln2 + r, a degree-6 polynomial in r, 2^n built in the exponent bits; the
       argument is clamped to [-87.3, 88] (sigmoid and tanh saturate long before). */
    static inline float ember_rnn_expf(float x) {
        float t, n, r, p, scale;
        int32_t nb, eb;
        x = x < -87.33654475f ? -87.33654475f : x;
        x = x > 88.0f ? 88.0f : x;
        t = x * 1.44269504088896341f + 12582912.0f;
        n = t - 12582912.0f;
        memcpy(&nb, &t, 4);
        r = x - n * 0.693359375f;
        r = r + n * 2.12194440e-4f;
        p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = p * r * r + r + 1.0f;
        eb = (nb - 0x4B400000 + 127) << 23;
        memcpy(&scale, &eb, 4);
        return p * scale;
    }
    static inline float ember_rnn_sigmf(float x) { return 1.0f / (1.0f + ember_rnn_expf(-x)); }
    /* Cephes tanhf: an odd polynomial below |x| = 0.5493 (no cancellation near 0), else 1 - 2/(e^2|x| + 1) */
    static inline float ember_rnn_tanhf(float x) {
        float a = fabsf(x), z = x * x, p, q;
        p = -5.70498872745e-3f;
        p = p * z + 2.06390887954e-2f;
        p = p * z - 5.37397155531e-2f;
        p = p * z + 1.33314422036e-1f;
        p = p * z - 3.33332819422e-1f;
        p = p * z * x + x;
        q = 1.0f - 2.0f / (ember_rnn_expf(2.0f * a) + 1.0f);
        q = x < 0 ? -q : q;
        return a < 0.5493061443f ? p : q;
    }
    static inline double ember_rnn_sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

    /* One step of each cell over ``bs`` rows, for the hidden units j0 <= j < j1 (a thread's share):
       the pointers are the step's first rows; rows are H wide (the gates' rows G wide). RELU is 1 for
       RNN_RELU, 0 for RNN_TANH. */
    #define EMBER_RNN_CELLS(T, S, SIG, TANH)                                                          \\
    EMBER_RNN_CLONES static void ember_rnn_fwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,         \\
                                                   Py_ssize_t j1, int relu, T *g, T *out, T *h) {     \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            T *gb = g + b * H, *ob = out + b * H, *hb = h + b * H;                                    \\
            if (relu) {                                                                               \\
                EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                 \\
                    T v = gb[j] > 0 ? gb[j] : 0; ob[j] = v; hb[j] = v; }                              \\
            } else {                                                                                  \\
                EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                 \\
                    T v = TANH(gb[j]); ob[j] = v; hb[j] = v; }                                        \\
            }                                                                                         \\
        }                                                                                             \\
    }                                                                                                 \\
    EMBER_RNN_CLONES static void ember_rnn_bwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,         \\
                                                   Py_ssize_t j1, int relu, const T *out,             \\
                                                   const T *dout, const T *dh, T *dg) {               \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            const T *ob = out + b * H, *dob = dout + b * H, *dhb = dh + b * H;                        \\
            T *db = dg + b * H;                                                                       \\
            if (relu) {                                                                               \\
                EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++)                                   \\
                    db[j] = ob[j] > 0 ? dob[j] + dhb[j] : 0;                                          \\
            } else {                                                                                  \\
                EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++)                                   \\
                    db[j] = (dob[j] + dhb[j]) * (1 - ob[j] * ob[j]);                                  \\
            }                                                                                         \\
        }                                                                                             \\
    }                                                                                                 \\
    /* g: i, f, g, o pre-activations in, activations out; c: running cell state */                   \\
    EMBER_RNN_CLONES static void ember_lstm_fwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,        \\
                                                    Py_ssize_t j1, T *g, T *c, T *cprev, T *tc,       \\
                                                    T *out, T *h) {                                   \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            T *gi = g + b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;                  \\
            T *cb = c + b * H, *cpb = cprev + b * H, *tb = tc + b * H, *ob = out + b * H;             \\
            T *hb = h + b * H;                                                                        \\
            EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                     \\
                T i = SIG(gi[j]), f = SIG(gf[j]), n = TANH(gg[j]), o = SIG(go[j]);                    \\
                T cp = cb[j], cn = f * cp + i * n, t = TANH(cn), hn = o * t;                          \\
                gi[j] = i; gf[j] = f; gg[j] = n; go[j] = o;                                           \\
                cpb[j] = cp; cb[j] = cn; tb[j] = t; ob[j] = hn; hb[j] = hn;                           \\
            }                                                                                         \\
        }                                                                                             \\
    }                                                                                                 \\
    /* dc: running cell-state gradient, in and out; dg: pre-activation gradients */                  \\
    EMBER_RNN_CLONES static void ember_lstm_bwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,        \\
                                                    Py_ssize_t j1, const T *g, const T *cprev,        \\
                                                    const T *tc, const T *dout, const T *dh, T *dc,   \\
                                                    T *dg) {                                          \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            const T *gi = g + b * 4 * H, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;            \\
            const T *cpb = cprev + b * H, *tb = tc + b * H, *dob = dout + b * H, *dhb = dh + b * H;   \\
            T *dcb = dc + b * H, *di = dg + b * 4 * H, *df = di + H, *dn = di + 2 * H;                \\
            T *dq = di + 3 * H;                                                                       \\
            EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                     \\
                T i = gi[j], f = gf[j], n = gg[j], o = go[j], t = tb[j];                              \\
                T dhj = dob[j] + dhb[j];                                                              \\
                T dcj = dcb[j] + dhj * o * (1 - t * t);                                               \\
                di[j] = dcj * n * i * (1 - i);                                                        \\
                df[j] = dcj * cpb[j] * f * (1 - f);                                                   \\
                dn[j] = dcj * i * (1 - n * n);                                                        \\
                dq[j] = dhj * t * o * (1 - o);                                                        \\
                dcb[j] = dcj * f;                                                                     \\
            }                                                                                         \\
        }                                                                                             \\
    }                                                                                                 \\
    /* g: r, z pre-activations (input and hidden parts) and the n gate's input part in, activations   \\
       out; hn: W_hn h in, W_hn h + b_hn out (kept for backward) */                                   \\
    EMBER_RNN_CLONES static void ember_gru_fwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,         \\
                                                   Py_ssize_t j1, T *g, T *hn, const T *bhn,          \\
                                                   const T *hprev, T *out, T *h) {                    \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            T *gr = g + b * 3 * H, *gz = gr + H, *gn = gr + 2 * H, *hnb = hn + b * H;                 \\
            const T *hpb = hprev + b * H;                                                             \\
            T *ob = out + b * H, *hb = h + b * H;                                                     \\
            EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                     \\
                T r = SIG(gr[j]), z = SIG(gz[j]), q = hnb[j] + bhn[j];                                \\
                T n = TANH(gn[j] + r * q), hv = n + z * (hpb[j] - n);                                 \\
                gr[j] = r; gz[j] = z; gn[j] = n; hnb[j] = q; ob[j] = hv; hb[j] = hv;                  \\
            }                                                                                         \\
        }                                                                                             \\
    }                                                                                                 \\
    /* dgi: r, z, n pre-activation gradients (the r and z ones serve W_hh too); dghn: the n gate's     \\
       hidden part; dh out: the direct path z * dh (the gemms add the rest) */                        \\
    EMBER_RNN_CLONES static void ember_gru_bwd_##S(Py_ssize_t bs, Py_ssize_t H, Py_ssize_t j0,         \\
                                                   Py_ssize_t j1, const T *g, const T *hn,            \\
                                                   const T *hprev, const T *dout, T *dh, T *dgi,      \\
                                                   T *dghn) {                                         \\
        for (Py_ssize_t b = 0; b < bs; b++) {                                                         \\
            const T *gr = g + b * 3 * H, *gz = gr + H, *gn = gr + 2 * H, *hnb = hn + b * H;           \\
            const T *hpb = hprev + b * H, *dob = dout + b * H;                                        \\
            T *dhb = dh + b * H, *dr = dgi + b * 3 * H, *dz = dr + H, *dn = dr + 2 * H;               \\
            T *dq = dghn + b * H;                                                                     \\
            EMBER_RNN_SIMD for (Py_ssize_t j = j0; j < j1; j++) {                                     \\
                T r = gr[j], z = gz[j], n = gn[j];                                                    \\
                T dhj = dob[j] + dhb[j];                                                              \\
                T dnp = dhj * (1 - z) * (1 - n * n);                                                  \\
                dr[j] = dnp * hnb[j] * r * (1 - r);                                                   \\
                dz[j] = dhj * (hpb[j] - n) * z * (1 - z);                                             \\
                dn[j] = dnp;                                                                          \\
                dq[j] = dnp * r;                                                                      \\
                dhb[j] = dhj * z;                                                                     \\
            }                                                                                         \\
        }                                                                                             \\
    }
    EMBER_RNN_CELLS(float, f, ember_rnn_sigmf, ember_rnn_tanhf)
    EMBER_RNN_CELLS(double, d, ember_rnn_sigm, tanh)

    /* Work sharing without barriers: the chunks of a phase are claimed with an atomic counter and
       counted when done; a thread waits only for the chunks of a phase to be done, never for the other
       threads to arrive, so a thread the OS has descheduled holds up at most the chunk it holds. */
    #include <sched.h>
    static inline Py_ssize_t ember_rnn_claim(Py_ssize_t *counter) {
        return __atomic_fetch_add(counter, 1, __ATOMIC_ACQ_REL);
    }
    static inline void ember_rnn_done(Py_ssize_t *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELEASE); }
    static inline void ember_rnn_wait(Py_ssize_t *counter, Py_ssize_t target) {
        int spins = 0;
        while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < target) {
            if (++spins < 2000) {
    #if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
    #endif
            } else {
                sched_yield();
            }
        }
    }
    """
    void ember_rnn_fwd_f(intp bs, intp H, intp j0, intp j1, int relu, float *g, float *out, float *h) nogil
    void ember_rnn_fwd_d(intp bs, intp H, intp j0, intp j1, int relu, double *g, double *out, double *h) nogil
    void ember_rnn_bwd_f(intp bs, intp H, intp j0, intp j1, int relu, const float *out, const float *dout,
                         const float *dh, float *dg) nogil
    void ember_rnn_bwd_d(intp bs, intp H, intp j0, intp j1, int relu, const double *out, const double *dout,
                         const double *dh, double *dg) nogil
    void ember_lstm_fwd_f(intp bs, intp H, intp j0, intp j1, float *g, float *c, float *cprev, float *tc,
                          float *out, float *h) nogil
    void ember_lstm_fwd_d(intp bs, intp H, intp j0, intp j1, double *g, double *c, double *cprev, double *tc,
                          double *out, double *h) nogil
    void ember_lstm_bwd_f(intp bs, intp H, intp j0, intp j1, const float *g, const float *cprev, const float *tc,
                          const float *dout, const float *dh, float *dc, float *dg) nogil
    void ember_lstm_bwd_d(intp bs, intp H, intp j0, intp j1, const double *g, const double *cprev,
                          const double *tc, const double *dout, const double *dh, double *dc, double *dg) nogil
    void ember_gru_fwd_f(intp bs, intp H, intp j0, intp j1, float *g, float *hn, const float *bhn,
                         const float *hprev, float *out, float *h) nogil
    void ember_gru_fwd_d(intp bs, intp H, intp j0, intp j1, double *g, double *hn, const double *bhn,
                         const double *hprev, double *out, double *h) nogil
    void ember_gru_bwd_f(intp bs, intp H, intp j0, intp j1, const float *g, const float *hn, const float *hprev,
                         const float *dout, float *dh, float *dgi, float *dghn) nogil
    void ember_gru_bwd_d(intp bs, intp H, intp j0, intp j1, const double *g, const double *hn,
                         const double *hprev, const double *dout, double *dh, double *dgi, double *dghn) nogil
    intp ember_rnn_claim(intp *counter) nogil
    void ember_rnn_done(intp *counter) nogil
    void ember_rnn_wait(intp *counter, intp target) nogil
    # for tests: the float nonlinearities the cells use
    float ember_rnn_sigmf(float x) nogil
    float ember_rnn_tanhf(float x) nogil


# modes, as ember/kernels/rnn.py numbers them
cdef enum:
    RNN_RELU = 0
    RNN_TANH = 1
    LSTM = 2
    GRU = 3
    # chunks of hidden units (or gemm columns) are multiples of this: whole cache lines of floats
    UNITS = 16
    # chunks per thread and phase: small enough for an idle thread to take over a busy one's share
    CHUNKS_PER_THREAD = 4


# ---------------------------------------------------------------------------------------- BLAS threads
include "_blas_threads.pxi"
import scipy.linalg.cython_blas
# scipy's BLAS, which this module's gemms call
cdef BlasThreads _blas = _blas_thread_controls(scipy.linalg.cython_blas.__file__)


# ---------------------------------------------------------------------------------------- gemm
cdef inline void _gemm(char ta, char tb, intp m, intp n, intp k, const floating* a, intp lda,
                       const floating* b, intp ldb, floating beta, floating* c, intp ldc) noexcept nogil:
    # row-major c = op(a) @ op(b) + beta * c is the column-major c^T = op(b)^T @ op(a)^T
    cdef floating one = 1
    cdef int m_ = <int>m, n_ = <int>n, k_ = <int>k, lda_ = <int>lda, ldb_ = <int>ldb, ldc_ = <int>ldc
    if m == 0 or n == 0:
        return
    if floating is float:
        sgemm(&tb, &ta, &n_, &m_, &k_, &one, <float*>b, &ldb_, <float*>a, &lda_, &beta, c, &ldc_)
    else:
        dgemm(&tb, &ta, &n_, &m_, &k_, &one, <double*>b, &ldb_, <double*>a, &lda_, &beta, c, &ldc_)


cdef struct Plan:
    intp width      # columns (hidden units) per chunk, a multiple of UNITS
    intp chunks     # chunks per phase
    int threads     # threads to start


cdef Plan _plan(intp n, int nthreads) noexcept nogil:
    """Chunks of n columns for nthreads threads: about CHUNKS_PER_THREAD each, at least UNITS wide."""
    cdef Plan p
    cdef intp want = max(1, <intp>nthreads * CHUNKS_PER_THREAD)
    p.width = ((n + want - 1) // want + UNITS - 1) // UNITS * UNITS
    p.chunks = (n + p.width - 1) // p.width
    p.threads = <int>max(1, min(<intp>nthreads, p.chunks))
    return p


cdef intp* _counters(intp n) except NULL:
    cdef intp* c = <intp*>calloc(max(n, 1), sizeof(intp))
    if c == NULL:
        raise MemoryError()
    return c


cdef intp* _offsets(const intp[::1] sizes, intp N, intp B) except NULL:
    """Each step's first row, after checking the step sizes (a caller frees it)."""
    cdef intp t, T = sizes.shape[0], total = 0
    cdef intp* offs
    for t in range(T):
        if sizes[t] < 1 or sizes[t] > B or (t and sizes[t] > sizes[t - 1]):
            raise ValueError("rnn kernel: step sizes must be positive, non-increasing and at most {}".format(B))
        total += sizes[t]
    if total != N or T == 0:
        raise ValueError("rnn kernel: step sizes sum to {}, expected {} rows".format(total, N))
    offs = _counters(T)
    total = 0
    for t in range(T):
        offs[t] = total
        total += sizes[t]
    return offs


cdef inline void _copy_cols(const floating* src, floating* dst, intp rows, intp H, intp j0, intp j1) noexcept nogil:
    cdef intp b
    for b in range(rows):
        memcpy(dst + b * H + j0, src + b * H + j0, (j1 - j0) * sizeof(floating))


# ---------------------------------------------------------------------------------------- the time loops
# A phase is split into chunks of hidden units [j0, j1) (all gates of those units). Forward, phase s is
# step s: per chunk, the gemm of its gate columns with the previous hidden state, its cells, and its
# columns of the next step's previous hidden state. Backward, phase p does per chunk the gemm giving its
# columns of dh from step p-1's gate gradients (all of them: the phase waits for p-1), then step p's cells.

cdef struct Loop:
    int mode
    intp T, H, G
    bint reverse
    const intp* sizes
    const intp* offs
    intp* claimed
    intp* done
    Plan plan


cdef inline intp _step(const Loop* L, intp s, bint backward) noexcept nogil:
    """The time step processed s-th (backward runs the forward order in reverse)."""
    return (L.T - 1 - s) if (L.reverse != backward) else s


cdef void _forward_chunk(const Loop* L, intp s, intp j0, intp j1, floating* g, const floating* w, floating* h,
                         floating* c, floating* out, floating* hprev, floating* aux1, floating* aux2,
                         const floating* bhn) noexcept nogil:
    cdef intp H = L.H, G = L.G, t = _step(L, s, False), q, nw = j1 - j0
    cdef intp r0 = L.offs[t], bs = L.sizes[t]
    cdef floating* hp = hprev + r0 * H
    if L.mode == GRU:
        _gemm(c'N', c'T', bs, nw, H, hp, H, w + j0 * H, H, 1, g + r0 * G + j0, G)
        _gemm(c'N', c'T', bs, nw, H, hp, H, w + (H + j0) * H, H, 1, g + r0 * G + H + j0, G)
        _gemm(c'N', c'T', bs, nw, H, hp, H, w + (2 * H + j0) * H, H, 0, aux1 + r0 * H + j0, H)
        if floating is float:
            ember_gru_fwd_f(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, bhn, hp, out + r0 * H, h)
        else:
            ember_gru_fwd_d(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, bhn, hp, out + r0 * H, h)
    else:
        for q in range(G // H):
            _gemm(c'N', c'T', bs, nw, H, hp, H, w + (q * H + j0) * H, H, 1, g + r0 * G + q * H + j0, G)
        if L.mode == LSTM:
            if floating is float:
                ember_lstm_fwd_f(bs, H, j0, j1, g + r0 * G, c, aux1 + r0 * H, aux2 + r0 * H, out + r0 * H, h)
            else:
                ember_lstm_fwd_d(bs, H, j0, j1, g + r0 * G, c, aux1 + r0 * H, aux2 + r0 * H, out + r0 * H, h)
        elif floating is float:
            ember_rnn_fwd_f(bs, H, j0, j1, L.mode == RNN_RELU, g + r0 * G, out + r0 * H, h)
        else:
            ember_rnn_fwd_d(bs, H, j0, j1, L.mode == RNN_RELU, g + r0 * G, out + r0 * H, h)
    if s + 1 < L.T:   # these columns of the next step's previous hidden state (rows joining in reverse too)
        t = _step(L, s + 1, False)
        _copy_cols(h, hprev + L.offs[t] * H, L.sizes[t], H, j0, j1)


cdef void _forward_thread(const Loop* L, floating* g, const floating* w, floating* h, floating* c, floating* out,
                          floating* hprev, floating* aux1, floating* aux2, const floating* bhn) noexcept nogil:
    cdef intp s, k, j0
    for s in range(L.T):
        while True:
            k = ember_rnn_claim(&L.claimed[s])
            if k >= L.plan.chunks:
                break
            j0 = k * L.plan.width
            _forward_chunk(L, s, j0, min(L.H, j0 + L.plan.width), g, w, h, c, out, hprev, aux1, aux2, bhn)
            ember_rnn_done(&L.done[s])
        ember_rnn_wait(&L.done[s], L.plan.chunks)


cdef void _backward_chunk(const Loop* L, intp p, intp j0, intp j1, const floating* g, const floating* w,
                          const floating* dout, floating* dh, floating* dc, const floating* out,
                          const floating* hprev, const floating* aux1, const floating* aux2, floating* dgi,
                          floating* dghn) noexcept nogil:
    cdef intp H = L.H, G = L.G, t, r0, bs, nw = j1 - j0
    if p > 0:   # these columns of dh <- (dh +) dg @ W_hh, from the step before
        t = _step(L, p - 1, True)
        r0 = L.offs[t]
        bs = L.sizes[t]
        if L.mode == GRU:
            _gemm(c'N', c'N', bs, nw, 2 * H, dgi + r0 * G, G, w + j0, H, 1, dh + j0, H)
            _gemm(c'N', c'N', bs, nw, H, dghn + r0 * H, H, w + 2 * H * H + j0, H, 1, dh + j0, H)
        else:
            _gemm(c'N', c'N', bs, nw, G, dgi + r0 * G, G, w + j0, H, 0, dh + j0, H)
    if p == L.T:
        return
    t = _step(L, p, True)
    r0 = L.offs[t]
    bs = L.sizes[t]
    if L.mode == LSTM:
        if floating is float:
            ember_lstm_bwd_f(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, aux2 + r0 * H, dout + r0 * H, dh, dc,
                             dgi + r0 * G)
        else:
            ember_lstm_bwd_d(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, aux2 + r0 * H, dout + r0 * H, dh, dc,
                             dgi + r0 * G)
    elif L.mode == GRU:
        if floating is float:
            ember_gru_bwd_f(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, hprev + r0 * H, dout + r0 * H, dh,
                            dgi + r0 * G, dghn + r0 * H)
        else:
            ember_gru_bwd_d(bs, H, j0, j1, g + r0 * G, aux1 + r0 * H, hprev + r0 * H, dout + r0 * H, dh,
                            dgi + r0 * G, dghn + r0 * H)
    elif floating is float:
        ember_rnn_bwd_f(bs, H, j0, j1, L.mode == RNN_RELU, out + r0 * H, dout + r0 * H, dh, dgi + r0 * G)
    else:
        ember_rnn_bwd_d(bs, H, j0, j1, L.mode == RNN_RELU, out + r0 * H, dout + r0 * H, dh, dgi + r0 * G)


cdef void _backward_thread(const Loop* L, const floating* g, const floating* w, const floating* dout, floating* dh,
                           floating* dc, const floating* out, const floating* hprev, const floating* aux1,
                           const floating* aux2, floating* dgi, floating* dghn) noexcept nogil:
    cdef intp p, k, j0
    for p in range(L.T + 1):
        while True:
            k = ember_rnn_claim(&L.claimed[p])
            if k >= L.plan.chunks:
                break
            j0 = k * L.plan.width
            _backward_chunk(L, p, j0, min(L.H, j0 + L.plan.width), g, w, dout, dh, dc, out, hprev, aux1, aux2,
                            dgi, dghn)
            ember_rnn_done(&L.done[p])
        ember_rnn_wait(&L.done[p], L.plan.chunks)


cdef int _loop(Loop* L, int mode, intp N, intp G, intp H, intp B, const intp[::1] sizes, bint reverse,
               int nthreads) except -1:
    cdef intp ngates = 4 if mode == LSTM else 3 if mode == GRU else 1
    if mode < RNN_RELU or mode > GRU:
        raise ValueError("rnn kernel: unknown mode {}".format(mode))
    if H < 1 or G != ngates * H:
        raise ValueError("rnn kernel: {} gate columns for hidden size {}, expected {}".format(G, H, ngates * H))
    L.mode, L.T, L.H, L.G, L.reverse = mode, sizes.shape[0], H, G, reverse
    L.sizes = &sizes[0] if sizes.shape[0] else NULL
    L.offs = _offsets(sizes, N, B)
    L.claimed = L.done = NULL
    L.claimed = _counters(L.T + 1)   # backward has T + 1 phases
    L.done = _counters(L.T + 1)
    L.plan = _plan(H, nthreads)
    return 0


cdef void _free_loop(Loop* L) noexcept:
    free(<void*>L.offs)
    free(L.claimed)
    free(L.done)


def _check_rows(str name, a, intp rows, intp cols):
    if a.shape[0] != rows or a.shape[1] != cols:
        raise ValueError("rnn kernel: {} is {} x {}, expected {} x {}".format(name, a.shape[0], a.shape[1], rows, cols))


def layer_forward(int mode, floating[:, ::1] g, floating[:, ::1] w_hh, const intp[::1] sizes, bint reverse,
                  floating[:, ::1] h, floating[:, ::1] c, floating[:, ::1] out, floating[:, ::1] hprev,
                  floating[:, ::1] aux1, floating[:, ::1] aux2, floating[::1] bhn, int nthreads):
    """Run one layer and direction over the sequence. ``g`` (N x G) holds the input projection with the
    biases (GRU: all but b_hn, given as ``bhn``); ``h``/``c`` (B x H) the initial states, advanced in
    place to the final ones; ``out``/``hprev`` (N x H) receive each step's output and previous hidden
    state. ``aux1``/``aux2`` (N x H) keep, for LSTM, each step's previous cell state and tanh of the new
    one; for GRU ``aux1`` receives W_hn h + b_hn. Unused arrays may be empty."""
    cdef intp N = g.shape[0], G = g.shape[1], H = w_hh.shape[1], B = h.shape[0], t0
    cdef int saved
    cdef Loop L
    cdef floating* cp = NULL
    cdef floating* a1 = NULL
    cdef floating* a2 = NULL
    cdef const floating* bp = NULL
    _check_rows("W_hh", w_hh, G, H)
    _check_rows("h", h, B, H)
    _check_rows("out", out, N, H)
    _check_rows("hprev", hprev, N, H)
    if mode == LSTM:
        _check_rows("c", c, B, H)
        _check_rows("aux1", aux1, N, H)
        _check_rows("aux2", aux2, N, H)
        cp, a1, a2 = &c[0, 0], &aux1[0, 0], &aux2[0, 0]
    elif mode == GRU:
        _check_rows("aux1", aux1, N, H)
        if bhn.shape[0] != H:
            raise ValueError("rnn kernel: bhn has {} elements, expected {}".format(bhn.shape[0], H))
        a1, bp = &aux1[0, 0], &bhn[0]
    _loop(&L, mode, N, G, H, B, sizes, reverse, nthreads)
    try:
        t0 = _step(&L, 0, False)
        _copy_cols(&h[0, 0], &hprev[0, 0] + L.offs[t0] * H, L.sizes[t0], H, 0, H)
        saved = _blas_single(&_blas)
        with nogil, parallel(num_threads=L.plan.threads):
            _forward_thread(&L, &g[0, 0], &w_hh[0, 0], &h[0, 0], cp, &out[0, 0], &hprev[0, 0], a1, a2, bp)
        _blas_restore(&_blas, saved)
    finally:
        _free_loop(&L)


def layer_backward(int mode, floating[:, ::1] g, floating[:, ::1] w_hh, const intp[::1] sizes, bint reverse,
                   floating[:, ::1] dout, floating[:, ::1] dh, floating[:, ::1] dc, floating[:, ::1] out,
                   floating[:, ::1] hprev, floating[:, ::1] aux1, floating[:, ::1] aux2,
                   floating[:, ::1] dgi, floating[:, ::1] dghn, int nthreads):
    """Back through the steps of layer_forward (same ``mode``, ``sizes``, ``reverse`` and the arrays it
    filled). ``dout`` (N x H): gradient of the output; ``dh``/``dc`` (B x H): of the final states, turned
    in place into those of the initial states. Fills ``dgi`` (N x G), the gradient of the gates'
    pre-activations (the input projection's gradient), and for GRU ``dghn`` (N x H), that of W_hn h + b_hn
    (for the other modes the hidden part's gradient is ``dgi`` itself)."""
    cdef intp N = g.shape[0], G = g.shape[1], H = w_hh.shape[1], B = dh.shape[0]
    cdef int saved
    cdef Loop L
    cdef floating* dcp = NULL
    cdef floating* dqp = NULL
    cdef const floating* a1 = NULL
    cdef const floating* a2 = NULL
    _check_rows("W_hh", w_hh, G, H)
    _check_rows("dh", dh, B, H)
    _check_rows("dout", dout, N, H)
    _check_rows("out", out, N, H)
    _check_rows("hprev", hprev, N, H)
    _check_rows("dgi", dgi, N, G)
    if mode == LSTM:
        _check_rows("dc", dc, B, H)
        _check_rows("aux1", aux1, N, H)
        _check_rows("aux2", aux2, N, H)
        dcp, a1, a2 = &dc[0, 0], &aux1[0, 0], &aux2[0, 0]
    elif mode == GRU:
        _check_rows("aux1", aux1, N, H)
        _check_rows("dghn", dghn, N, H)
        dqp, a1 = &dghn[0, 0], &aux1[0, 0]
    _loop(&L, mode, N, G, H, B, sizes, reverse, nthreads)
    try:
        saved = _blas_single(&_blas)
        with nogil, parallel(num_threads=L.plan.threads):
            _backward_thread(&L, &g[0, 0], &w_hh[0, 0], &dout[0, 0], &dh[0, 0], dcp, &out[0, 0], &hprev[0, 0],
                             a1, a2, &dgi[0, 0], dqp)
        _blas_restore(&_blas, saved)
    finally:
        _free_loop(&L)


cdef inline bint _rows_ok(intp s0, intp s1, intp cols, intp item):
    return s1 == item and s0 % item == 0 and s0 >= cols * item


cdef struct MM:
    char ta, tb
    intp m, n, k, lda, ldb, ldc
    bint by_cols
    intp claimed
    Plan plan


def mm(floating[:, :] a, bint ta, floating[:, :] b, bint tb, floating[:, :] c, floating beta, int nthreads):
    """c = op(a) @ op(b) + beta * c (op transposes when ``ta`` / ``tb``); 2-D arrays whose rows are
    contiguous (column slices of C-contiguous arrays work). The larger side of c is cut into chunks that
    the threads claim, each running a single-threaded gemm."""
    cdef MM P
    cdef intp item = sizeof(floating)
    cdef int saved
    P.m = a.shape[1] if ta else a.shape[0]
    P.k = a.shape[0] if ta else a.shape[1]
    P.n = b.shape[0] if tb else b.shape[1]
    if (b.shape[1] if tb else b.shape[0]) != P.k or c.shape[0] != P.m or c.shape[1] != P.n:
        raise ValueError("rnn kernel mm: sizes {} x {}, {} x {} -> {} x {} don't match".format(
            P.m, P.k, b.shape[1] if tb else b.shape[0], P.n, c.shape[0], c.shape[1]))
    if P.m == 0 or P.n == 0:
        return
    if P.k == 0:
        if beta == 0:
            c[:, :] = 0
        return
    if not (_rows_ok(a.strides[0], a.strides[1], a.shape[1], item) and _rows_ok(b.strides[0], b.strides[1],
            b.shape[1], item) and _rows_ok(c.strides[0], c.strides[1], c.shape[1], item)):
        raise ValueError("rnn kernel mm: arrays need contiguous rows")
    P.ta, P.tb = (c'T' if ta else c'N'), (c'T' if tb else c'N')
    P.lda, P.ldb, P.ldc = a.strides[0] // item, b.strides[0] // item, c.strides[0] // item
    P.by_cols = P.n >= P.m
    P.plan = _plan(P.n if P.by_cols else P.m, nthreads)
    P.claimed = 0
    saved = _blas_single(&_blas)
    with nogil, parallel(num_threads=P.plan.threads):
        _mm_thread(&P, &a[0, 0], &b[0, 0], beta, &c[0, 0])
    _blas_restore(&_blas, saved)


cdef void _mm_thread(MM* P, const floating* a, const floating* b, floating beta, floating* c) noexcept nogil:
    """Claim chunks of mm: columns lo:hi of op(b) and c, or rows lo:hi of op(a) and c."""
    cdef intp k, lo, hi
    while True:
        k = ember_rnn_claim(&P.claimed)
        if k >= P.plan.chunks:
            return
        lo = k * P.plan.width
        if P.by_cols:
            hi = min(P.n, lo + P.plan.width)
            _gemm(P.ta, P.tb, P.m, hi - lo, P.k, a, P.lda, (b + lo * P.ldb) if P.tb == c'T' else (b + lo), P.ldb,
                  beta, c + lo, P.ldc)
        else:
            hi = min(P.m, lo + P.plan.width)
            _gemm(P.ta, P.tb, hi - lo, P.n, P.k, (a + lo) if P.ta == c'T' else (a + lo * P.lda), P.lda, b, P.ldb,
                  beta, c + lo * P.ldc, P.ldc)


def sigmoid_f(float x):
    """The float sigmoid the cells use (for tests)."""
    return ember_rnn_sigmf(x)


def tanh_f(float x):
    """The float tanh the cells use (for tests)."""
    return ember_rnn_tanhf(x)
