// Declarations of the faiss distance symbols this shim defines (see distances.cpp). The public
// faiss headers declare most of them; the *_ref loops are internal to faiss, so we declare them.
#pragma once
#include <cstddef>

namespace faiss {
float fvec_L2sqr(const float *x, const float *y, size_t d);
float fvec_inner_product(const float *x, const float *y, size_t d);
float fvec_norm_L2sqr(const float *x, size_t d);
void fvec_L2sqr_ny(float *dis, const float *x, const float *y, size_t d, size_t ny);
void fvec_inner_products_ny(float *ip, const float *x, const float *y, size_t d, size_t ny);
float fvec_L2sqr_ref(const float *x, const float *y, size_t d);
float fvec_inner_product_ref(const float *x, const float *y, size_t d);
float fvec_L1_ref(const float *x, const float *y, size_t d);
float fvec_Linf_ref(const float *x, const float *y, size_t d);
float fvec_norm_L2sqr_ref(const float *x, size_t d);
void fvec_L2sqr_ny_ref(float *dis, const float *x, const float *y, size_t d, size_t ny);
void fvec_inner_products_ny_ref(float *ip, const float *x, const float *y, size_t d, size_t ny);
void fvec_L2sqr_ny_y_transposed_ref(float *dis, const float *x, const float *y, const float *y_sqlen,
                                    size_t d, size_t d_offset, size_t ny);
size_t fvec_L2sqr_ny_nearest_ref(float *tmp, const float *x, const float *y, size_t d, size_t ny);
size_t fvec_L2sqr_ny_nearest_y_transposed_ref(float *tmp, const float *x, const float *y, const float *y_sqlen,
                                              size_t d, size_t d_offset, size_t ny);
} // namespace faiss

bool elanus_simd_kernels_active();
