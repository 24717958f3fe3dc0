// The C API of CFaiss.h. Every entry point catches std::exception (faiss::FaissException
// derives from it) and stores the message for vf_last_error(); Swift cannot catch C++ exceptions.

#include "CFaiss.h"

#include <omp.h>
#include <faiss/Index.h>
#include <faiss/index_factory.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/HNSW.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/random.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <vector>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

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

/// faiss's writer interface over a file descriptor: buffered write(2) calls, with the checksum
/// of every byte written, so an index of any size goes to disk without a copy in memory.
struct ChecksummingFDWriter : faiss::IOWriter {
    int fd;
    vf_checksum_fn checksum;
    uint32_t crc = 0;
    uint64_t written = 0;
    std::vector<uint8_t> buffer;

    ChecksummingFDWriter(int fd, vf_checksum_fn checksum) : fd(fd), checksum(checksum) { buffer.reserve(1 << 20); }

    size_t operator()(const void *ptr, size_t size, size_t nitems) override {
        const uint8_t *p = static_cast<const uint8_t *>(ptr);
        size_t bytes = size * nitems;
        crc = checksum(crc, p, bytes);
        written += bytes;
        if (buffer.size() + bytes > buffer.capacity()) drain();
        if (bytes >= buffer.capacity()) {
            put(p, bytes);
        } else {
            buffer.insert(buffer.end(), p, p + bytes);
        }
        return nitems;
    }

    void drain() {
        put(buffer.data(), buffer.size());
        buffer.clear();
    }

    void put(const uint8_t *p, size_t bytes) {
        while (bytes > 0) {
            ssize_t n = ::write(fd, p, bytes);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
            p += n;
            bytes -= size_t(n);
        }
    }
};

/// faiss's reader interface over `length` bytes of a file descriptor from `offset`: buffered
/// pread(2) calls that never read past the section, so a damaged length field fails instead of
/// reading the next section.
struct BoundedFDReader : faiss::IOReader {
    int fd;
    uint64_t offset;
    uint64_t end;
    std::vector<uint8_t> buffer;
    size_t start = 0;

    BoundedFDReader(int fd, uint64_t offset, uint64_t length) : fd(fd), offset(offset), end(offset + length) {}

    size_t operator()(void *ptr, size_t size, size_t nitems) override {
        if (size == 0 || nitems == 0) return 0;
        uint8_t *out = static_cast<uint8_t *>(ptr);
        size_t wanted = size * nitems;
        size_t got = 0;
        while (got < wanted) {
            if (start < buffer.size()) {
                size_t n = std::min(wanted - got, buffer.size() - start);
                std::memcpy(out + got, buffer.data() + start, n);
                start += n;
                got += n;
            } else if (offset >= end) {
                break;
            } else if (wanted - got >= kBlock) {
                // Large arrays (the vectors, the graph) go straight to their destination.
                size_t n = size_t(std::min<uint64_t>(end - offset, wanted - got));
                fill(out + got, n);
                got += n;
            } else {
                buffer.resize(size_t(std::min<uint64_t>(end - offset, kBlock)));
                fill(buffer.data(), buffer.size());
                start = 0;
            }
        }
        return got / size;
    }

    static constexpr size_t kBlock = 1 << 20;

    /// Reads exactly n bytes at `offset` into p and advances past them.
    void fill(uint8_t *p, size_t n) {
        size_t filled = 0;
        while (filled < n) {
            ssize_t r = ::pread(fd, p + filled, n - filled, off_t(offset + filled));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) throw std::runtime_error(std::string("read: ") + (r == 0 ? "unexpected end of file" : std::strerror(errno)));
            filled += size_t(r);
        }
        offset += n;
    }
};
/// Negates a similarity so that HNSW, which always keeps the smallest values, keeps the largest
/// inner products (faiss's own wrapper for this is private to IndexHNSW.cpp).
struct NegatedDistanceComputer : faiss::DistanceComputer {
    std::unique_ptr<faiss::DistanceComputer> inner;

    explicit NegatedDistanceComputer(faiss::DistanceComputer *inner) : inner(inner) {}
    void set_query(const float *x) override { inner->set_query(x); }
    float operator()(idx_t i) override { return -(*inner)(i); }
    float symmetric_dis(idx_t i, idx_t j) override { return -inner->symmetric_dis(i, j); }
};

/// Distances between two stored rows of a PQ storage, from their decoded vectors. faiss's PQ
/// distance computer needs a table of ksub^2 x M floats for that (16 GiB per subquantizer at
/// 16 bits), which faiss 1.7.3 builds only in IndexHNSWPQ::train; the HNSW build asks for these
/// distances when it prunes neighbour lists.
struct DecodedSymmetricDistance : faiss::DistanceComputer {
    std::unique_ptr<faiss::DistanceComputer> inner;
    const faiss::Index &storage;
    std::vector<float> a, b;

    DecodedSymmetricDistance(faiss::DistanceComputer *inner, const faiss::Index &storage)
        : inner(inner), storage(storage), a(size_t(storage.d)), b(size_t(storage.d)) {}
    void set_query(const float *x) override { inner->set_query(x); }
    float operator()(idx_t i) override { return (*inner)(i); }
    float symmetric_dis(idx_t i, idx_t j) override {
        storage.reconstruct(i, a.data());
        storage.reconstruct(j, b.data());
        if (storage.metric_type == faiss::METRIC_INNER_PRODUCT) return faiss::fvec_inner_product(a.data(), b.data(), a.size());
        return faiss::fvec_L2sqr(a.data(), b.data(), a.size());
    }
};

/// The distance HNSW orders by over the index's storage: smaller is better for every metric.
std::unique_ptr<faiss::DistanceComputer> graph_distance(const faiss::IndexHNSW &index) {
    faiss::DistanceComputer *raw = index.storage->get_distance_computer();
    if (dynamic_cast<const faiss::IndexPQ *>(index.storage)) raw = new DecodedSymmetricDistance(raw, *index.storage);
    if (index.metric_type == faiss::METRIC_INNER_PRODUCT) return std::unique_ptr<faiss::DistanceComputer>(new NegatedDistanceComputer(raw));
    return std::unique_ptr<faiss::DistanceComputer>(raw);
}

/// One visited table per thread, kept between searches. faiss 1.7.3's IndexHNSW::search builds a
/// fresh table of one byte per row for every call (1 MB at a million rows); under the daemon's
/// 256 KiB malloc mmap threshold that is a new mapping, zero-filled and page-faulted on every
/// query, which cost a third of the time of a search at ef=256. A kept table is cleared by
/// advancing its mark, with a full clear only once every 249 searches.
faiss::VisitedTable &visited_table(faiss::Index::idx_t rows) {
    thread_local std::unique_ptr<faiss::VisitedTable> table;
    if (!table) table.reset(new faiss::VisitedTable(0));
    // New bytes are zero, which is never a live mark (marks run from 1), so growing keeps it valid.
    if (table->visited.size() < size_t(rows)) table->visited.resize(size_t(rows));
    return *table;
}

/// IndexHNSW::search, query by query on the caller's thread, with the thread's kept visited table.
void search_hnsw(const faiss::IndexHNSW &index, int64_t n, const float *x, int64_t k,
                 const faiss::SearchParametersHNSW &params, float *distances, int64_t *labels) {
    if (!index.storage) throw std::runtime_error("the HNSW index has no storage");
    const bool similarity = index.metric_type == faiss::METRIC_INNER_PRODUCT;
    std::unique_ptr<faiss::DistanceComputer> dis = graph_distance(index);
    faiss::VisitedTable &vt = visited_table(index.ntotal);
    for (int64_t i = 0; i < n; i++) {
        float *d = distances + i * k;
        int64_t *ids = labels + i * k;
        dis->set_query(x + i * index.d);
        faiss::maxheap_heapify(k, d, ids);
        const int mark = vt.visno;
        index.hnsw.search(*dis, int(k), ids, d, vt, &params);
        // faiss advances the table at the end of a search; make sure the next search never sees
        // this one's marks even on a path that does not.
        if (vt.visno == mark) vt.advance();
        faiss::maxheap_reorder(k, d, ids);
    }
    if (similarity)
        for (int64_t i = 0; i < n * k; i++) distances[i] = -distances[i];
}

/// The HNSW index itself, or the one a refine step wraps; NULL for other types.
faiss::IndexHNSW *hnsw_of(faiss::Index *index) {
    if (auto *refine = dynamic_cast<faiss::IndexRefine *>(index)) index = refine->base_index;
    return dynamic_cast<faiss::IndexHNSW *>(index);
}

const faiss::IndexHNSW *hnsw_of(const faiss::Index *index) { return hnsw_of(const_cast<faiss::Index *>(index)); }

/// faiss's scalar quantizer types by the names Milvus gives them (sq_type, refine_type).
faiss::ScalarQuantizer::QuantizerType sq_type(const std::string &name) {
    if (name == "SQ4U") return faiss::ScalarQuantizer::QT_4bit_uniform;
    if (name == "SQ6") return faiss::ScalarQuantizer::QT_6bit;
    if (name == "SQ8") return faiss::ScalarQuantizer::QT_8bit;
    if (name == "FP16") return faiss::ScalarQuantizer::QT_fp16;
    // Not a Milvus sq_type: the byte-per-dimension codes of an Int8Vector index, values 0...255
    // kept and decoded exactly (int8 values shifted by 128).
    if (name == "SQ8DIRECT") return faiss::ScalarQuantizer::QT_8bit_direct;
    throw std::runtime_error("unknown scalar quantizer type " + name);
}

/// Trains what needs training: an HNSW index's storage only (IndexHNSWPQ::train would also build
/// the symmetric table DecodedSymmetricDistance does without), and both halves of a refine step.
void train_index(faiss::Index *index, int64_t n, const float *x) {
    if (auto *refine = dynamic_cast<faiss::IndexRefine *>(index)) {
        train_index(refine->base_index, n, x);
        train_index(refine->refine_index, n, x);
        refine->is_trained = true;
    } else if (auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index)) {
        if (!hnsw->storage->is_trained) hnsw->storage->train(n, x);
        hnsw->is_trained = true;
    } else if (!index->is_trained) {
        index->train(n, x);
    }
}

/// One search of the index itself (a refine step's base): HNSW with per-request ef, IVF with
/// per-request nprobe, anything else with the selector alone.
void search_base(const faiss::Index *raw, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                 faiss::IDSelector *selector, float *distances, int64_t *labels) {
    if (auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(raw)) {
        faiss::SearchParametersHNSW params;
        params.sel = selector;
        params.efSearch = ef > 0 ? std::max<int64_t>(ef, k) : hnsw->hnsw.efSearch;
        // With the member set to a ceiling, this makes ef bound the expansion steps.
        params.check_relative_distance = false;
        search_hnsw(*hnsw, n, x, k, params, distances, labels);
    } else if (auto *ivf = dynamic_cast<const faiss::IndexIVF *>(raw)) {
        faiss::SearchParametersIVF params;
        params.sel = selector;
        params.nprobe = nprobe > 0 ? size_t(nprobe) : ivf->nprobe;
        ivf->search(n, x, k, distances, labels, &params);
    } else {
        faiss::SearchParameters params;
        params.sel = selector;
        raw->search(n, x, k, distances, labels, selector ? &params : nullptr);
    }
}

/// A refine step: `candidates` rows per query from the base index, re-ranked by the refine
/// index's distances (exact for a flat one), the best k kept. faiss 1.7.3's IndexRefine::search
/// takes no search parameters, so filters and per-request ef or nprobe could not reach its base.
void search_refined(const faiss::IndexRefine &refine, int64_t n, const float *x, int64_t k, int64_t candidates, int ef,
                    int nprobe, faiss::IDSelector *selector, float *distances, int64_t *labels) {
    const int64_t kb = std::max(k, candidates);
    std::vector<float> base_distances(size_t(n * kb));
    std::vector<int64_t> base_labels(size_t(n * kb));
    search_base(refine.base_index, n, x, kb, ef, nprobe, selector, base_distances.data(), base_labels.data());
    std::unique_ptr<faiss::DistanceComputer> dis(refine.refine_index->get_distance_computer());
    const bool similarity = refine.metric_type == faiss::METRIC_INNER_PRODUCT;
    std::vector<std::pair<float, int64_t>> scored;
    for (int64_t q = 0; q < n; q++) {
        dis->set_query(x + q * refine.d);
        scored.clear();
        for (int64_t j = 0; j < kb; j++) {
            const int64_t label = base_labels[size_t(q * kb + j)];
            if (label >= 0) scored.emplace_back((*dis)(label), label);
        }
        const size_t keep = std::min(scored.size(), size_t(k));
        auto better = [similarity](const std::pair<float, int64_t> &a, const std::pair<float, int64_t> &b) {
            if (a.first != b.first) return similarity ? a.first > b.first : a.first < b.first;
            return a.second < b.second;
        };
        std::partial_sort(scored.begin(), scored.begin() + long(keep), scored.end(), better);
        for (int64_t j = 0; j < k; j++) {
            const bool found = size_t(j) < keep;
            distances[q * k + j] = found ? scored[size_t(j)].first : (similarity ? -INFINITY : INFINITY);
            labels[q * k + j] = found ? scored[size_t(j)].second : -1;
        }
    }
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

extern "C" void openblas_set_num_threads(int n);

void vf_set_blas_threads(int n) { openblas_set_num_threads(n); }

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
    if (auto *hnsw = hnsw_of(index->index.get())) {
        if (ef_construction > 0) hnsw->hnsw.efConstruction = ef_construction;
        if (ef_search_ceiling > 0) hnsw->hnsw.efSearch = ef_search_ceiling;
    }
}

int vf_index_train(vf_index *index, int64_t n, const float *x) {
    return guarded([&] { train_index(index->index.get(), n, x); });
}

int vf_index_search_with(const vf_index *index, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                         const uint8_t *bitmap, size_t bitmap_bytes, float *distances, int64_t *labels) {
    return vf_index_search_refined(index, n, x, k, ef, nprobe, 0, bitmap, bitmap_bytes, distances, labels);
}

int vf_index_search_refined(const vf_index *index, int64_t n, const float *x, int64_t k, int ef, int nprobe,
                            int64_t candidates, const uint8_t *bitmap, size_t bitmap_bytes, float *distances,
                            int64_t *labels) {
    return guarded([&] {
        std::unique_ptr<faiss::IDSelectorBitmap> selector;
        if (bitmap) selector.reset(new faiss::IDSelectorBitmap(bitmap_bytes, bitmap));
        const faiss::Index *raw = index->index.get();
        if (auto *refine = dynamic_cast<const faiss::IndexRefine *>(raw)) {
            search_refined(*refine, n, x, k, candidates, ef, nprobe, selector.get(), distances, labels);
        } else {
            search_base(raw, n, x, k, ef, nprobe, selector.get(), distances, labels);
        }
    });
}

int vf_index_hnsw_new(int d, int metric, int m, const char *storage, vf_index **out) {
    *out = nullptr;
    return guarded([&] {
        const faiss::MetricType mt = metric == VF_METRIC_INNER_PRODUCT ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
        const std::string name(storage);
        std::unique_ptr<faiss::IndexHNSW> index;
        int pq_m = 0, nbits = 0;
        if (std::sscanf(name.c_str(), "PQ%dx%d", &pq_m, &nbits) == 2) {
            // faiss 1.7.3's IndexHNSWPQ constructor knows only L2 and 8 bits: the fields are set
            // here as it would set them, which is also what read_index restores.
            auto *pq = new faiss::IndexHNSWPQ();
            pq->d = d;
            pq->metric_type = mt;
            pq->storage = new faiss::IndexPQ(d, size_t(pq_m), size_t(nbits), mt);
            pq->own_fields = true;
            pq->hnsw = faiss::HNSW(m);
            pq->is_trained = false;
            index.reset(pq);
        } else {
            index.reset(new faiss::IndexHNSWSQ(d, sq_type(name), m, mt));
        }
        *out = new vf_index{std::move(index)};
    });
}

int vf_index_add_refine(vf_index *index, const char *refine) {
    return guarded([&] {
        faiss::Index *base = index->index.get();
        if (base->ntotal != 0) throw std::runtime_error("a refine step wraps an empty index only");
        const std::string name(refine);
        std::unique_ptr<faiss::Index> exact;
        if (name == "FLAT" || name == "FP32") {
            exact.reset(new faiss::IndexFlat(base->d, base->metric_type));
        } else {
            exact.reset(new faiss::IndexScalarQuantizer(base->d, sq_type(name), base->metric_type));
        }
        std::unique_ptr<faiss::IndexRefine> wrapped(new faiss::IndexRefine(base, exact.get()));
        wrapped->own_fields = true;
        wrapped->own_refine_index = true;
        exact.release();
        index->index.release();
        index->index = std::move(wrapped);
    });
}

int vf_index_hnsw_append(vf_index *index, int64_t n, const float *x) {
    return guarded([&] {
        auto *hnsw = hnsw_of(index->index.get());
        if (!hnsw || !hnsw->storage) throw std::runtime_error("not an HNSW index");
        // Only the storage (and a refine step's vectors) grow; the indexes' own counts follow
        // when the rows are linked.
        hnsw->storage->add(n, x);
        if (auto *refine = dynamic_cast<faiss::IndexRefine *>(index->index.get())) refine->refine_index->add(n, x);
    });
}

int vf_index_hnsw_link(vf_index *index, vf_progress_fn progress, void *context) {
    return vf_index_hnsw_link_vectors(index, nullptr, progress, context);
}

int vf_index_hnsw_link_vectors(vf_index *index, const float *vectors, vf_progress_fn progress, void *context) {
    return guarded([&] {
        auto *hnsw_index = hnsw_of(index->index.get());
        auto *flat = hnsw_index ? dynamic_cast<faiss::IndexFlat *>(hnsw_index->storage) : nullptr;
        if (!hnsw_index || !hnsw_index->storage) throw std::runtime_error("not an HNSW index");
        if (!flat && !vectors) throw std::runtime_error("an HNSW index over quantized storage links from the raw vectors");
        auto *refine = dynamic_cast<faiss::IndexRefine *>(index->index.get());
        faiss::HNSW &hnsw = hnsw_index->hnsw;
        const int64_t n0 = hnsw_index->ntotal;
        const int64_t total = hnsw_index->storage->ntotal;
        if (refine && refine->refine_index->ntotal != total) throw std::runtime_error("the refine step and the graph disagree on the row count");
        const int64_t n = total - n0;
        if (n <= 0) return;
        if (int64_t(hnsw.levels.size()) != n0) throw std::runtime_error("the graph and the index disagree on the row count");
        // The same steps as faiss's own add (hnsw_add_vertices, private to IndexHNSW.cpp), over
        // every unlinked row at once: levels drawn for all, then the rows linked level by level,
        // highest first, each level in a fixed random order. Linking slice by slice instead
        // interleaves upper-level rows with the base layer and measurably lowers recall (0.93
        // against 0.96 at ef=256 and a million rows).
        hnsw.prepare_level_tab(size_t(n), false);
        hnsw_index->ntotal = total;
        if (refine) refine->ntotal = total;
        const float *x = vectors ? vectors : flat->get_xb();
        const int64_t d = hnsw_index->d;

        std::vector<int> per_level;
        for (int64_t i = n0; i < total; i++) {
            size_t level = size_t(hnsw.levels[i] - 1);
            if (level >= per_level.size()) per_level.resize(level + 1, 0);
            per_level[level]++;
        }
        std::vector<int64_t> starts(per_level.size() + 1, 0);
        for (size_t l = 0; l < per_level.size(); l++) starts[l + 1] = starts[l] + per_level[l];
        std::vector<faiss::HNSW::storage_idx_t> order(static_cast<size_t>(n));
        {
            std::vector<int64_t> next(starts.begin(), starts.end() - 1);
            for (int64_t i = n0; i < total; i++) order[size_t(next[size_t(hnsw.levels[i] - 1)]++)] = faiss::HNSW::storage_idx_t(i);
        }

        std::vector<omp_lock_t> locks(static_cast<size_t>(total));
        for (auto &lock : locks) omp_init_lock(&lock);
        struct LockRelease {
            std::vector<omp_lock_t> &locks;
            ~LockRelease() { for (auto &lock : locks) omp_destroy_lock(&lock); }
        } release{locks};

        // Our own threads, as many as the OpenMP setting allows: the shim is not compiled with
        // OpenMP, and faiss's add_with_locks only needs the locks, which work from any thread.
        const int threads = std::max(1, omp_get_max_threads());
        constexpr int64_t claim = 64;
        std::atomic<int64_t> linked{0};
        std::atomic<bool> failed{false};
        std::mutex failure_lock;
        std::exception_ptr failure;
        faiss::RandomGenerator rng(789);
        for (int64_t level = int64_t(per_level.size()) - 1; level >= 0; level--) {
            const int64_t begin = starts[size_t(level)], end = starts[size_t(level) + 1];
            for (int64_t j = begin; j < end; j++) std::swap(order[size_t(j)], order[size_t(j + rng.rand_int(int(end - j)))]);
            std::atomic<int64_t> next{begin};
            auto work = [&](bool reports) {
                try {
                    faiss::VisitedTable vt(static_cast<int>(total));
                    std::unique_ptr<faiss::DistanceComputer> dis = graph_distance(*hnsw_index);
                    while (!failed.load(std::memory_order_relaxed)) {
                        const int64_t from = next.fetch_add(claim);
                        if (from >= end) return;
                        const int64_t to = std::min(from + claim, end);
                        for (int64_t i = from; i < to; i++) {
                            const faiss::HNSW::storage_idx_t pt = order[size_t(i)];
                            dis->set_query(x + int64_t(pt) * d);
                            hnsw.add_with_locks(*dis, int(level), pt, locks, vt);
                        }
                        const int64_t done = linked.fetch_add(to - from) + (to - from);
                        if (reports && progress && progress(context, done, n) != 0) throw std::runtime_error("cancelled");
                    }
                } catch (...) {
                    std::lock_guard<std::mutex> guard(failure_lock);
                    if (!failure) failure = std::current_exception();
                    failed = true;
                }
            };
            // The few rows of the top levels link on the calling thread alone, as in faiss.
            std::vector<std::thread> helpers;
            if (end - begin > 100) {
                for (int t = 1; t < threads; t++) {
                    // Without a thread to spare, link with the ones there are (a joinable
                    // thread must never be destroyed by an exception unwinding past it).
                    try {
                        helpers.emplace_back(work, false);
                    } catch (const std::system_error &) {
                        break;
                    }
                }
            }
            work(true);
            for (auto &helper : helpers) helper.join();
            if (failure) std::rethrow_exception(failure);
        }
    });
}

int vf_index_write_fd(const vf_index *index, int fd, vf_checksum_fn checksum, uint64_t *length, uint32_t *crc) {
    *length = 0;
    *crc = 0;
    return guarded([&] {
        ChecksummingFDWriter writer(fd, checksum);
        faiss::write_index(index->index.get(), &writer);
        writer.drain();
        *length = writer.written;
        *crc = writer.crc;
    });
}

int vf_index_read_fd(int fd, uint64_t offset, uint64_t length, vf_index **out) {
    *out = nullptr;
    return guarded([&] {
        BoundedFDReader reader(fd, offset, length);
        std::unique_ptr<faiss::Index> index(faiss::read_index(&reader));
        if (reader.offset != reader.end || reader.start != reader.buffer.size())
            throw std::runtime_error("the index ends before its section does");
        *out = new vf_index{std::move(index)};
    });
}

void vf_index_reserve(vf_index *index, int64_t n) {
    auto *hnsw = hnsw_of(index->index.get());
    if (!hnsw || n <= 0) return;
    guarded([&] {
        size_t rows = size_t(n);
        if (auto *flat = dynamic_cast<faiss::IndexFlatCodes *>(hnsw->storage)) flat->codes.reserve(rows * flat->code_size);
        hnsw->hnsw.levels.reserve(rows);
        hnsw->hnsw.offsets.reserve(rows + 1);
        // Level 0 holds 2M links per point; the upper levels add M/(M-1) on average.
        hnsw->hnsw.neighbors.reserve(rows * size_t(hnsw->hnsw.nb_neighbors(0) + 2));
    });
}

const float *vf_index_flat_vectors(const vf_index *index) {
    if (auto *refine = dynamic_cast<const faiss::IndexRefine *>(index->index.get())) {
        auto *flat = dynamic_cast<const faiss::IndexFlat *>(refine->refine_index);
        if (!flat || flat->ntotal != refine->ntotal) return nullptr;
        return flat->get_xb();
    }
    auto *hnsw = dynamic_cast<const faiss::IndexHNSW *>(index->index.get());
    if (!hnsw) return nullptr;
    auto *flat = dynamic_cast<const faiss::IndexFlat *>(hnsw->storage);
    if (!flat || flat->ntotal != hnsw->ntotal) return nullptr;
    return flat->get_xb();
}

int64_t vf_index_ntotal(const vf_index *index) { return index->index->ntotal; }

int vf_index_dimension(const vf_index *index) { return index->index->d; }

void vf_index_free(vf_index *index) { delete index; }

} // extern "C"
