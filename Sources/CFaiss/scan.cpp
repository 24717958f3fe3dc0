// The engine's exact scan (growing segments, FLAT, the fallback of a selective filter): rows of
// one chunk scored against the query and kept in a caller-owned top-k heap, in one loop with no
// intermediate buffer and no call back into Swift per row. Several queries at once go through a
// BLAS matrix product per block of rows, as faiss's exhaustive search does from 20 queries on.
//
// Thread safety: every function works only on its arguments (and, for the batch, on buffers it
// allocates); any number of threads may scan at once, each with its own heaps. The matrix
// products run on the calling thread when OpenBLAS is pinned to one thread (vf_set_blas_threads).

#include "CFaiss.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"

extern "C" int sgemm_(const char *transa, const char *transb, int *m, int *n, int *k, const float *alpha, const float *a,
                      int *lda, const float *b, int *ldb, float *beta, float *c, int *ldc);

namespace {

// ElanusQuery's TopK.push, step for step: the same comparisons in the same order, so a scan here
// keeps the same candidates in the same slots as the Swift heap would, ties and NaNs included.
inline void push(vf_topk *heap, float key, int64_t label) {
    const size_t k = heap->k;
    if (k == 0) return;
    float *keys = heap->keys;
    int64_t *labels = heap->labels;
    if (heap->count < k) {
        size_t i = heap->count++;
        keys[i] = key;
        labels[i] = label;
        while (i > 0) {
            const size_t parent = (i - 1) / 2;
            if (!(keys[parent] < keys[i])) break;
            std::swap(keys[parent], keys[i]);
            std::swap(labels[parent], labels[i]);
            i = parent;
        }
    } else if (key < keys[0]) {
        keys[0] = key;
        labels[0] = label;
        const size_t count = heap->count;
        size_t i = 0;
        while (true) {
            const size_t l = 2 * i + 1, r = l + 1;
            size_t largest = i;
            if (l < count && keys[l] > keys[largest]) largest = l;
            if (r < count && keys[r] > keys[largest]) largest = r;
            if (largest == i) break;
            std::swap(keys[largest], keys[i]);
            std::swap(labels[largest], labels[i]);
            i = largest;
        }
    }
}

// The heap key of one row's score (smaller is better), computed exactly as ExactSearch did per
// row: L2 distance; negated inner product; negated cosine, 0 for a zero vector.
template <int Metric> inline float key(const float *q, float query_norm, const float *x, size_t d) {
    if (Metric == VF_SCAN_L2) return faiss::fvec_L2sqr(q, x, d);
    if (Metric == VF_SCAN_IP) return -faiss::fvec_inner_product(q, x, d);
    const float norm = std::sqrt(faiss::fvec_norm_L2sqr(x, d)) * query_norm;
    return -(norm > 0 ? faiss::fvec_inner_product(q, x, d) / norm : 0.0f);
}

template <int Metric>
void scan(const float *q, float query_norm, const float *base, size_t d, const int32_t *rows, size_t n, int64_t label_base,
          vf_topk *heap) {
    if (rows) {
        for (size_t i = 0; i < n; i++) {
            const int64_t r = rows[i];
            const float k = key<Metric>(q, query_norm, base + r * d, d);
            if (heap->count < heap->k || k < heap->keys[0]) push(heap, k, label_base + r);
        }
    } else {
        for (size_t r = 0; r < n; r++) {
            const float k = key<Metric>(q, query_norm, base + r * d, d);
            if (heap->count < heap->k || k < heap->keys[0]) push(heap, k, label_base + int64_t(r));
        }
    }
}

} // namespace

void vf_scan_topk(int metric, const float *query, float query_norm, const float *base, size_t d, const int32_t *rows,
                  size_t n, int64_t label_base, vf_topk *heap) {
    switch (metric) {
    case VF_SCAN_L2: scan<VF_SCAN_L2>(query, query_norm, base, d, rows, n, label_base, heap); break;
    case VF_SCAN_IP: scan<VF_SCAN_IP>(query, query_norm, base, d, rows, n, label_base, heap); break;
    default: scan<VF_SCAN_COSINE>(query, query_norm, base, d, rows, n, label_base, heap); break;
    }
}

void vf_scan_topk_batch(int metric, const float *queries, const float *query_norms, size_t nq, const float *base, size_t d,
                        const int32_t *rows, size_t n, int64_t label_base, vf_topk *heaps) {
    if (nq == 0 || n == 0) return;
    // Rows per matrix product: the block of products (nq x block) and the block's rows stay in
    // cache while the heaps read them.
    const size_t block = 1024;
    std::vector<float> products(nq * std::min(n, block));
    std::vector<float> norms(std::min(n, block));
    std::vector<float> gathered(rows ? std::min(n, block) * d : 0);
    // The squared query norms for L2 (|q - x|^2 = |q|^2 + |x|^2 - 2 q.x); cosine takes the norms.
    std::vector<float> query_terms(nq);
    for (size_t i = 0; i < nq; i++) {
        query_terms[i] = metric == VF_SCAN_L2 ? faiss::fvec_norm_L2sqr(queries + i * d, d) : query_norms[i];
    }
    for (size_t j0 = 0; j0 < n; j0 += block) {
        const size_t count = std::min(block, n - j0);
        const float *x = base + j0 * d;
        if (rows) {
            for (size_t j = 0; j < count; j++) std::memcpy(&gathered[j * d], base + int64_t(rows[j0 + j]) * d, d * sizeof(float));
            x = gathered.data();
        }
        if (metric != VF_SCAN_IP) {
            for (size_t j = 0; j < count; j++) norms[j] = faiss::fvec_norm_L2sqr(x + j * d, d);
        }
        // products[i * count + j] = <query i, row j>: column-major count x nq.
        int m = int(count), nn = int(nq), kk = int(d), lda = int(d), ldb = int(d), ldc = int(count);
        float one = 1, zero = 0;
        sgemm_("Transpose", "Not transpose", &m, &nn, &kk, &one, x, &lda, queries, &ldb, &zero, products.data(), &ldc);
        for (size_t i = 0; i < nq; i++) {
            const float *ip = products.data() + i * count;
            vf_topk *heap = heaps + i;
            const float qt = query_terms[i];
            for (size_t j = 0; j < count; j++) {
                float k;
                if (metric == VF_SCAN_L2) {
                    k = qt + norms[j] - 2 * ip[j];
                    if (k < 0) k = 0;
                } else if (metric == VF_SCAN_IP) {
                    k = -ip[j];
                } else {
                    const float norm = std::sqrt(norms[j]) * qt;
                    k = -(norm > 0 ? ip[j] / norm : 0.0f);
                }
                if (heap->count < heap->k || k < heap->keys[0]) {
                    push(heap, k, label_base + (rows ? int64_t(rows[j0 + j]) : int64_t(j0 + j)));
                }
            }
        }
    }
}
