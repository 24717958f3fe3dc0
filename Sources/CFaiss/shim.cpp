// The C API of CFaiss.h. Every entry point catches std::exception (faiss::FaissException
// derives from it) and stores the message for vf_last_error(); Swift cannot catch C++ exceptions.

#include "CFaiss.h"

#include <omp.h>
#include <faiss/Index.h>
#include <faiss/index_factory.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cstdlib>
#include <cstring>

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

void vf_index_set_hnsw(vf_index *index, int ef_construction, int ef_search_ceiling) {
    if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index->index.get())) {
        if (ef_construction > 0) hnsw->hnsw.efConstruction = ef_construction;
        if (ef_search_ceiling > 0) hnsw->hnsw.efSearch = ef_search_ceiling;
    }
}

int vf_index_train(vf_index *index, int64_t n, const float *x) {
    return guarded([&] {
        if (!index->index->is_trained) index->index->train(n, x);
    });
}

int vf_index_search_with(const vf_index *index, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                         const uint8_t *bitmap, size_t bitmap_bytes, float *distances, int64_t *labels) {
    return guarded([&] {
        std::unique_ptr<faiss::IDSelectorBitmap> selector;
        if (bitmap) selector.reset(new faiss::IDSelectorBitmap(bitmap_bytes, bitmap));
        const faiss::Index *raw = index->index.get();
        if (auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(raw)) {
            faiss::SearchParametersHNSW params;
            params.sel = selector.get();
            params.efSearch = ef > 0 ? ef : hnsw->hnsw.efSearch;
            // With the member set to a ceiling, this makes ef bound the expansion steps.
            params.check_relative_distance = false;
            hnsw->search(n, x, k, distances, labels, &params);
        } else if (auto *ivf = dynamic_cast<const faiss::IndexIVF *>(raw)) {
            faiss::SearchParametersIVF params;
            params.sel = selector.get();
            params.nprobe = nprobe > 0 ? size_t(nprobe) : ivf->nprobe;
            ivf->search(n, x, k, distances, labels, &params);
        } else {
            faiss::SearchParameters params;
            params.sel = selector.get();
            raw->search(n, x, k, distances, labels, selector ? &params : nullptr);
        }
    });
}

int vf_index_serialize(const vf_index *index, uint8_t **out, size_t *length) {
    *out = nullptr;
    *length = 0;
    return guarded([&] {
        faiss::VectorIOWriter writer;
        faiss::write_index(index->index.get(), &writer);
        *out = static_cast<uint8_t *>(std::malloc(writer.data.size()));
        if (!*out) throw std::bad_alloc();
        std::memcpy(*out, writer.data.data(), writer.data.size());
        *length = writer.data.size();
    });
}

int vf_index_deserialize(const uint8_t *bytes, size_t length, vf_index **out) {
    *out = nullptr;
    return guarded([&] {
        faiss::VectorIOReader reader;
        reader.data.assign(bytes, bytes + length);
        std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
        *out = new vf_index{std::move(index)};
    });
}

void vf_free(void *p) { std::free(p); }

int64_t vf_index_ntotal(const vf_index *index) { return index->index->ntotal; }

int vf_index_dimension(const vf_index *index) { return index->index->d; }

void vf_index_free(vf_index *index) { delete index; }

} // extern "C"
