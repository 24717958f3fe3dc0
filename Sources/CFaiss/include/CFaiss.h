// C interface over our faiss shim. Debian's libfaiss.a has no C API compiled in, so this header
// is the whole boundary between Swift and faiss. Every call that can fail returns -1 (or NULL)
// and leaves the faiss exception text in a thread-local buffer that vf_last_error() returns;
// no C++ exception ever crosses into Swift.
#ifndef ELANUS_CFAISS_H
#define ELANUS_CFAISS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The message of the last failed call on this thread ("" when none).
const char *vf_last_error(void);

/// 1 when the AVX2+FMA kernels are in use on this CPU, 0 when the portable loops are.
int vf_simd_kernels_active(void);

/// Distance kernels: the same functions faiss calls (our override of distances_simd.cpp.o).
float vf_l2sqr(const float *x, const float *y, size_t d);
float vf_inner_product(const float *x, const float *y, size_t d);
float vf_norm_l2sqr(const float *x, size_t d);
void vf_l2sqr_ny(float *out, const float *x, const float *y, size_t d, size_t ny);
void vf_inner_products_ny(float *out, const float *x, const float *y, size_t d, size_t ny);

/// The portable scalar loops, kept callable so tests and the benchmark can compare against them.
float vf_l2sqr_scalar(const float *x, const float *y, size_t d);
float vf_inner_product_scalar(const float *x, const float *y, size_t d);

/// OpenMP threads for faiss calls made from the calling thread (omp_set_num_threads is per thread).
void vf_set_omp_threads(int n);

/// OpenBLAS threads for every BLAS call of the process (OpenBLAS keeps one global count). The
/// engine sets 1: its matrix products run on the searching thread, beside other searches.
void vf_set_blas_threads(int n);

/// The exact scan's top-k heap, owned by the caller: `k` slots of keys and labels, `count` of
/// them filled. Keys are smaller-is-better (L2 distances, negated similarities) with the worst
/// kept at keys[0]: a max-heap pushed exactly as ElanusQuery's TopK pushes, so a scan here keeps
/// the candidates, in the slots, that the Swift heap would.
typedef struct vf_topk {
    float *keys;
    int64_t *labels;
    size_t count;
    size_t k;
} vf_topk;

/// The scan's metrics.
enum { VF_SCAN_L2 = 0, VF_SCAN_IP = 1, VF_SCAN_COSINE = 2 };

/// Scores rows of `base` (row-major, `d` floats a row) against `query` and pushes each into
/// `heap` with label `label_base + row`: the `n` rows listed in `rows`, or rows 0..<n when `rows`
/// is NULL. Scores are those of vf_l2sqr, vf_inner_product and, for cosine, the inner product
/// over (|x| * query_norm), 0 for a zero row. Safe to call concurrently on different heaps.
void vf_scan_topk(int metric, const float *query, float query_norm, const float *base, size_t d, const int32_t *rows,
                  size_t n, int64_t label_base, vf_topk *heap);
/// The same for `nq` queries at once (row-major, nq x d; `heaps[i]` for query i; `query_norms`
/// for cosine, NULL otherwise), through one BLAS matrix product per block of rows. Keys come from
/// the product (L2 as |q|^2 + |x|^2 - 2 q.x, clamped at 0), so they differ from vf_scan_topk's by
/// float rounding: re-score the kept rows where exact scores matter.
void vf_scan_topk_batch(int metric, const float *queries, const float *query_norms, size_t nq, const float *base, size_t d,
                        const int32_t *rows, size_t n, int64_t label_base, vf_topk *heaps);

/// Metric ids, as faiss numbers them.
enum { VF_METRIC_INNER_PRODUCT = 0, VF_METRIC_L2 = 1 };

/// An owned faiss::Index.
typedef struct vf_index vf_index;

/// Builds an index from a faiss factory string ("Flat", "HNSW32", "IVF1024,Flat", ...).
int vf_index_factory(int d, const char *description, int metric, vf_index **out);
int vf_index_add(vf_index *index, int64_t n, const float *x);
int vf_index_search(const vf_index *index, int64_t n, const float *x, int64_t k, float *distances, int64_t *labels);
/// Searches only the rows whose bit is set in `bitmap` (bit i%8 of byte i/8; `bitmap_bytes` long),
/// through faiss's IDSelectorBitmap. Indexes that take no search parameters fail with a message.
int vf_index_search_bitmap(const vf_index *index, int64_t n, const float *x, int64_t k, const uint8_t *bitmap,
                           size_t bitmap_bytes, float *distances, int64_t *labels);
/// HNSW only (no-op for other types): the build-time efConstruction, and the ceiling for the
/// per-request ef (faiss 1.7.3 sizes the candidate heap from the member, and ignores the ef in
/// search parameters beyond it; see the facts file).
void vf_index_set_hnsw(vf_index *index, int ef_construction, int ef_search_ceiling);
/// Trains the index (IVF quantizers) on n vectors; a no-op for indexes that need no training.
int vf_index_train(vf_index *index, int64_t n, const float *x);
/// Called now and then during a long build with the rows done so far and the rows to do;
/// returning non-zero stops the build (it then fails with "cancelled").
typedef int (*vf_progress_fn)(void *context, int64_t done, int64_t total);
/// HNSW (and a refine step around one): appends n vectors to the storage only, without linking them.
int vf_index_hnsw_append(vf_index *index, int64_t n, const float *x);
/// HNSW over flat storage: links every appended row into the graph exactly as one faiss `add`
/// of all of them would (levels first, then level by level), on up to the OpenMP thread count
/// of threads; `progress` (may be NULL) is called on the calling thread, after every claim of
/// rows, and may stop the build: every thread then ends after its current claim.
int vf_index_hnsw_link(vf_index *index, vf_progress_fn progress, void *context);
/// Searches with per-request parameters: `ef` for HNSW, `nprobe` for IVF (0 = the index's
/// default), and an optional row bitmap (NULL = every row). Safe to call concurrently. HNSW
/// queries run one after another on the calling thread, with a visited table kept per thread.
int vf_index_search_with(const vf_index *index, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                         const uint8_t *bitmap, size_t bitmap_bytes, float *distances, int64_t *labels);
/// As vf_index_search_with; for an index with a refine step (vf_index_add_refine), the base index
/// returns max(k, candidates) rows per query, which the refine step re-ranks by its own distances
/// before the best k are kept. `candidates` is ignored for other indexes.
int vf_index_search_refined(const vf_index *index, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                            int64_t candidates, const uint8_t *bitmap, size_t bitmap_bytes, float *distances,
                            int64_t *labels);
/// An empty HNSW index with M links per node over quantized storage: `storage` is "SQ4U", "SQ6",
/// "SQ8", "FP16" (faiss's scalar quantizer), "SQ8DIRECT" (one byte per dimension holding the
/// values 0...255 exactly: an Int8Vector's values shifted by 128) or "PQ<m>x<nbits>" (a product quantizer), for either
/// metric. Train it (vf_index_train), append rows (vf_index_hnsw_append), then link them with
/// vf_index_hnsw_link_vectors.
int vf_index_hnsw_new(int d, int metric, int m, const char *storage, vf_index **out);
/// Wraps an empty index in a refine step whose own index keeps every row as `refine`: "FLAT" (or
/// "FP32": the vectors as given) or one of the scalar quantizer types above. Adds, training and
/// HNSW appends reach both; searches go through vf_index_search_refined.
int vf_index_add_refine(vf_index *index, const char *refine);
/// vf_index_hnsw_link with the raw vectors of every row of the index (row 0 first), which an HNSW
/// index over quantized storage does not keep; NULL links from a flat storage's own vectors.
int vf_index_hnsw_link_vectors(vf_index *index, const float *vectors, vf_progress_fn progress, void *context);
/// A running checksum: (previous value, bytes, count) -> new value (CRC-32C from CSystem).
typedef uint32_t (*vf_checksum_fn)(uint32_t crc, const void *data, size_t length);
/// Writes faiss's serialization of the index at the descriptor's current offset, buffered, and
/// reports its length and checksum: no copy of the index is made in memory.
int vf_index_write_fd(const vf_index *index, int fd, vf_checksum_fn checksum, uint64_t *length, uint32_t *crc);
/// Reads an index from exactly `length` bytes of the descriptor at `offset` (check the bytes'
/// checksum first: faiss trusts the sizes it reads).
int vf_index_read_fd(int fd, uint64_t offset, uint64_t length, vf_index **out);
/// HNSW only (no-op for other types): reserves room for n points in the storage and the graph,
/// so adding them never holds an old and a doubled copy of those arrays at once.
void vf_index_reserve(vf_index *index, int64_t n);
/// The rows x d raw vectors an HNSW index keeps in its flat storage, or a refine step in its flat
/// index (as added: normalized for COSINE), or NULL for other index types. Valid while the index lives; never written to.
const float *vf_index_flat_vectors(const vf_index *index);
int64_t vf_index_ntotal(const vf_index *index);
int vf_index_dimension(const vf_index *index);
void vf_index_free(vf_index *index);

#ifdef __cplusplus
}
#endif

#endif
