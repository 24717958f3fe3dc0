// The C API of CFaiss.h. Every entry point catches std::exception (faiss::FaissException
// derives from it) and stores the message for vf_last_error(); Swift cannot catch C++ exceptions.

#include "CFaiss.h"

#include <omp.h>
#include <faiss/Index.h>
#include <faiss/index_factory.h>
#include <faiss/impl/IDSelector.h>

#include <exception>
#include <memory>
#include <string>

#include "kernels.h"

struct vf_index {
    std::unique_ptr<faiss::Index> index;
};

namespace {
thread_local std::string last_error;

template <typename F> int guarded(F &&body) {
    try {
        last_error.clear();
        body();
        return 0;
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown C++ exception";
    }
    return -1;
}
} // namespace

extern "C" {

const char *vf_last_error(void) { return last_error.c_str(); }

int vf_simd_kernels_active(void) { return elanus_simd_kernels_active() ? 1 : 0; }

float vf_l2sqr(const float *x, const float *y, size_t d) { return faiss::fvec_L2sqr(x, y, d); }
float vf_inner_product(const float *x, const float *y, size_t d) { return faiss::fvec_inner_product(x, y, d); }
float vf_norm_l2sqr(const float *x, size_t d) { return faiss::fvec_norm_L2sqr(x, d); }
void vf_l2sqr_ny(float *out, const float *x, const float *y, size_t d, size_t ny) {
    faiss::fvec_L2sqr_ny(out, x, y, d, ny);
}
void vf_inner_products_ny(float *out, const float *x, const float *y, size_t d, size_t ny) {
    faiss::fvec_inner_products_ny(out, x, y, d, ny);
}
float vf_l2sqr_scalar(const float *x, const float *y, size_t d) { return faiss::fvec_L2sqr_ref(x, y, d); }
float vf_inner_product_scalar(const float *x, const float *y, size_t d) {
    return faiss::fvec_inner_product_ref(x, y, d);
}

void vf_set_omp_threads(int n) { omp_set_num_threads(n); }

int vf_index_factory(int d, const char *description, int metric, vf_index **out) {
    *out = nullptr;
    return guarded([&] {
        faiss::MetricType m = metric == VF_METRIC_INNER_PRODUCT ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
        std::unique_ptr<faiss::Index> index(faiss::index_factory(d, description, m));
        *out = new vf_index{std::move(index)};
    });
}

int vf_index_add(vf_index *index, int64_t n, const float *x) {
    return guarded([&] { index->index->add(n, x); });
}

int vf_index_search(const vf_index *index, int64_t n, const float *x, int64_t k, float *distances, int64_t *labels) {
    return guarded([&] { index->index->search(n, x, k, distances, labels); });
}

int vf_index_search_bitmap(const vf_index *index, int64_t n, const float *x, int64_t k, const uint8_t *bitmap,
                           size_t bitmap_bytes, float *distances, int64_t *labels) {
    return guarded([&] {
        faiss::IDSelectorBitmap selector(bitmap_bytes, bitmap);
        faiss::SearchParameters params;
        params.sel = &selector;
        index->index->search(n, x, k, distances, labels, &params);
    });
}

int64_t vf_index_ntotal(const vf_index *index) { return index->index->ntotal; }

int vf_index_dimension(const vf_index *index) { return index->index->d; }

void vf_index_free(vf_index *index) { delete index; }

} // extern "C"
