// Times our distance kernels (Sources/CFaiss/distances.cpp) against the ones Debian ships in
// libfaiss.a, in one process. Scripts/bench extracts distances_simd.cpp.o from the archive and
// renames its symbols with a "debian_" prefix, so both versions link side by side.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels.h"

float debian_l2(const float *, const float *, size_t) __asm__("debian__ZN5faiss10fvec_L2sqrEPKfS1_m");
float debian_ip(const float *, const float *, size_t) __asm__("debian__ZN5faiss18fvec_inner_productEPKfS1_m");

template <typename F> double ns_per_call(F f, const std::vector<float> &data, size_t d, size_t vectors, size_t calls) {
    volatile float sink = 0;
    float acc = 0;
    const float *q = data.data();
    // Warm up, then time; best of 5 runs to shed scheduling noise on a shared machine.
    for (size_t i = 0; i < calls / 10; i++) acc += f(q, data.data() + (i % vectors) * d, d);
    double best = 1e30;
    for (int run = 0; run < 5; run++) {
        auto start = std::chrono::steady_clock::now();
        for (size_t i = 0; i < calls; i++) acc += f(q, data.data() + (i % vectors) * d, d);
        auto end = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(end - start).count() / calls);
    }
    sink = acc;
    (void)sink;
    return best;
}

int main(int argc, char **argv) {
    size_t calls = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000000;
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-1, 1);
    std::printf("%-6s %-8s %14s %14s %8s\n", "dim", "kernel", "debian ns/call", "elanus ns/call", "speedup");
    for (size_t d : {128, 768}) {
        const size_t vectors = 256;  // cache-hot, as in faiss's inner loops
        std::vector<float> data(vectors * d);
        for (auto &x : data) x = u(rng);
        size_t n = calls * 128 / d;
        double dl2 = ns_per_call(debian_l2, data, d, vectors, n), el2 = ns_per_call(faiss::fvec_L2sqr, data, d, vectors, n);
        double dip = ns_per_call(debian_ip, data, d, vectors, n), eip = ns_per_call(faiss::fvec_inner_product, data, d, vectors, n);
        std::printf("%-6zu %-8s %14.2f %14.2f %7.1fx\n", d, "L2", dl2, el2, dl2 / el2);
        std::printf("%-6zu %-8s %14.2f %14.2f %7.1fx\n", d, "IP", dip, eip, dip / eip);
    }
    std::printf("simd kernels active: %s\n", elanus_simd_kernels_active() ? "yes (AVX2+FMA)" : "no (portable loops)");
    return 0;
}
