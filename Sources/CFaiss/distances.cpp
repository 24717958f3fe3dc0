// Our replacement for faiss's distances_simd.cpp.o.
//
// Debian builds libfaiss.a for generic x86-64, so its distance kernels are scalar loops (about
// 50 ns for L2 at d=128; see ../shared/reference/faiss-rocksdb-facts.md section 3). This file
// defines every global symbol of that archive member, so the linker never pulls it in and every
// faiss index calls these functions instead. The hot kernels (L2, inner product, norm) have
// AVX2+FMA versions chosen once at run time; everything else is a plain loop.
//
// If a future faiss object needed a symbol of that member that we do not define, the member
// would be linked too and the link would fail on duplicate symbols: loud, never silent.

#include <immintrin.h>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace {

bool detect_avx2_fma() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Resolved during static initialisation, before any faiss call can run.
const bool kUseAVX2 = detect_avx2_fma();

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 shuf = _mm_movehdup_ps(lo);
    __m128 sums = _mm_add_ps(lo, shuf);
    shuf = _mm_movehl_ps(shuf, sums);
    sums = _mm_add_ss(sums, shuf);
    return _mm_cvtss_f32(sums);
}

// Loads the first n (< 8) floats of p, zero-filling the rest, without reading past p[n-1].
__attribute__((target("avx2,fma"))) inline __m256 load_partial(const float *p, size_t n) {
    static const int32_t mask_src[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(mask_src + 8 - n));
    return _mm256_maskload_ps(p, mask);
}

__attribute__((target("avx2,fma"))) float l2sqr_avx2(const float *x, const float *y, size_t d) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    }
    if (i + 8 <= d) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        i += 8;
    }
    if (i < d) {
        __m256 d0 = _mm256_sub_ps(load_partial(x + i, d - i), load_partial(y + i, d - i));
        acc1 = _mm256_fmadd_ps(d0, d0, acc1);
    }
    return hsum256(_mm256_add_ps(acc0, acc1));
}

__attribute__((target("avx2,fma"))) float ip_avx2(const float *x, const float *y, size_t d) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    }
    if (i + 8 <= d) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
        i += 8;
    }
    if (i < d) {
        acc1 = _mm256_fmadd_ps(load_partial(x + i, d - i), load_partial(y + i, d - i), acc1);
    }
    return hsum256(_mm256_add_ps(acc0, acc1));
}

__attribute__((target("avx2,fma"))) float norm_avx2(const float *x, size_t d) {
    return ip_avx2(x, x, d);
}

size_t argmin(const float *v, size_t n) {
    size_t best = 0;
    float best_value = HUGE_VALF;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < best_value) {
            best_value = v[i];
            best = i;
        }
    }
    return best;
}

} // namespace

namespace faiss {

// ---- portable reference loops (also the fallback on CPUs without AVX2+FMA) ----

float fvec_L2sqr_ref(const float *x, const float *y, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) {
        const float t = x[i] - y[i];
        sum += t * t;
    }
    return sum;
}

float fvec_inner_product_ref(const float *x, const float *y, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) sum += x[i] * y[i];
    return sum;
}

float fvec_L1_ref(const float *x, const float *y, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) sum += std::fabs(x[i] - y[i]);
    return sum;
}

float fvec_Linf_ref(const float *x, const float *y, size_t d) {
    float m = 0;
    for (size_t i = 0; i < d; i++) m = std::fmax(m, std::fabs(x[i] - y[i]));
    return m;
}

float fvec_norm_L2sqr_ref(const float *x, size_t d) {
    float sum = 0;
    for (size_t i = 0; i < d; i++) sum += x[i] * x[i];
    return sum;
}

void fvec_L2sqr_ny_ref(float *dis, const float *x, const float *y, size_t d, size_t ny) {
    for (size_t i = 0; i < ny; i++) dis[i] = fvec_L2sqr_ref(x, y + i * d, d);
}

void fvec_inner_products_ny_ref(float *ip, const float *x, const float *y, size_t d, size_t ny) {
    for (size_t i = 0; i < ny; i++) ip[i] = fvec_inner_product_ref(x, y + i * d, d);
}

// y holds ny vectors column-wise: component j of vector i is y[i + j * d_offset].
void fvec_L2sqr_ny_y_transposed_ref(float *dis, const float *x, const float *y, const float *y_sqlen,
                                    size_t d, size_t d_offset, size_t ny) {
    const float x_sqlen = fvec_norm_L2sqr_ref(x, d);
    for (size_t i = 0; i < ny; i++) {
        float dot = 0;
        for (size_t j = 0; j < d; j++) dot += x[j] * y[i + j * d_offset];
        dis[i] = x_sqlen + y_sqlen[i] - 2 * dot;
    }
}

size_t fvec_L2sqr_ny_nearest_ref(float *tmp, const float *x, const float *y, size_t d, size_t ny) {
    fvec_L2sqr_ny_ref(tmp, x, y, d, ny);
    return argmin(tmp, ny);
}

size_t fvec_L2sqr_ny_nearest_y_transposed_ref(float *tmp, const float *x, const float *y, const float *y_sqlen,
                                              size_t d, size_t d_offset, size_t ny) {
    fvec_L2sqr_ny_y_transposed_ref(tmp, x, y, y_sqlen, d, d_offset, ny);
    return argmin(tmp, ny);
}

// ---- the symbols faiss calls ----

float fvec_L2sqr(const float *x, const float *y, size_t d) {
    return kUseAVX2 ? l2sqr_avx2(x, y, d) : fvec_L2sqr_ref(x, y, d);
}

float fvec_inner_product(const float *x, const float *y, size_t d) {
    return kUseAVX2 ? ip_avx2(x, y, d) : fvec_inner_product_ref(x, y, d);
}

float fvec_norm_L2sqr(const float *x, size_t d) {
    return kUseAVX2 ? norm_avx2(x, d) : fvec_norm_L2sqr_ref(x, d);
}

float fvec_L1(const float *x, const float *y, size_t d) { return fvec_L1_ref(x, y, d); }

float fvec_Linf(const float *x, const float *y, size_t d) { return fvec_Linf_ref(x, y, d); }

void fvec_L2sqr_ny(float *dis, const float *x, const float *y, size_t d, size_t ny) {
    for (size_t i = 0; i < ny; i++) dis[i] = fvec_L2sqr(x, y + i * d, d);
}

void fvec_inner_products_ny(float *ip, const float *x, const float *y, size_t d, size_t ny) {
    for (size_t i = 0; i < ny; i++) ip[i] = fvec_inner_product(x, y + i * d, d);
}

size_t fvec_L2sqr_ny_nearest(float *tmp, const float *x, const float *y, size_t d, size_t ny) {
    fvec_L2sqr_ny(tmp, x, y, d, ny);
    return argmin(tmp, ny);
}

size_t fvec_L2sqr_ny_nearest_y_transposed(float *tmp, const float *x, const float *y, const float *y_sqlen,
                                          size_t d, size_t d_offset, size_t ny) {
    return fvec_L2sqr_ny_nearest_y_transposed_ref(tmp, x, y, y_sqlen, d, d_offset, ny);
}

void fvec_madd(size_t n, const float *a, float bf, const float *b, float *c) {
    for (size_t i = 0; i < n; i++) c[i] = a[i] + bf * b[i];
}

int fvec_madd_and_argmin(size_t n, const float *a, float bf, const float *b, float *c) {
    fvec_madd(n, a, bf, b, c);
    return static_cast<int>(argmin(c, n));
}

void fvec_add(size_t d, const float *a, const float *b, float *c) {
    for (size_t i = 0; i < d; i++) c[i] = a[i] + b[i];
}

void fvec_add(size_t d, const float *a, float b, float *c) {
    for (size_t i = 0; i < d; i++) c[i] = a[i] + b;
}

void fvec_sub(size_t d, const float *a, const float *b, float *c) {
    for (size_t i = 0; i < d; i++) c[i] = a[i] - b[i];
}

// Product-quantizer distance tables for 2-dimensional sub-vectors. Centroids are laid out as
// (M, ksub, 2) and the tables as (nx, M, ksub), M = d / 2.
void compute_PQ_dis_tables_dsub2(size_t d, size_t ksub, const float *centroids, size_t nx, const float *x,
                                 bool is_inner_product, float *dis_tables) {
    const size_t M = d / 2;
    for (size_t i = 0; i < nx; i++) {
        const float *xi = x + i * d;
        for (size_t m = 0; m < M; m++) {
            const float x0 = xi[2 * m], x1 = xi[2 * m + 1];
            const float *c = centroids + m * ksub * 2;
            float *out = dis_tables + (i * M + m) * ksub;
            for (size_t k = 0; k < ksub; k++) {
                const float c0 = c[2 * k], c1 = c[2 * k + 1];
                if (is_inner_product) {
                    out[k] = x0 * c0 + x1 * c1;
                } else {
                    const float t0 = x0 - c0, t1 = x1 - c1;
                    out[k] = t0 * t0 + t1 * t1;
                }
            }
        }
    }
}

} // namespace faiss

bool elanus_simd_kernels_active() { return kUseAVX2; }
