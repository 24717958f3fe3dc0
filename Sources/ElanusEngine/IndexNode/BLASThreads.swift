import CFaiss
import ElanusCore
import Synchronization

/// OpenBLAS's thread count, which OpenBLAS keeps once for the whole process (0.3.21 has no
/// per-thread count), made explicit: 1 while no index build runs, because the exact scan's
/// matrix products run on the searching threads, one group of queries a core (ExactSearch+Kernel),
/// and OpenBLAS threads beside them would oversubscribe the cores; the build's thread count while
/// one runs, because faiss trains IVF and PQ quantizers through BLAS (k-means' distance products)
/// and its OpenMP threads do not cover those calls (IVF_PQ's build took 2.3 times as long on 1).
///
/// Builds are counted, so the last one to end brings the count back to 1. A batch search that
/// runs during a build may then share the cores with OpenBLAS's threads: slower, never wrong.
enum BLASThreads {
    private static let state = Mutex<(builds: Int, threads: Int)>((0, 0))

    /// Sets 1 unless a build runs (Engine.init; several engines may share the process).
    static func pinForSearch() {
        state.withLock { s in
            guard s.builds == 0, s.threads != 1 else { return }
            s.threads = 1
            vf_set_blas_threads(1)
        }
    }

    /// Runs `body` (a faiss build) with at least `threads` OpenBLAS threads.
    static func duringBuild<T>(threads: Int, _ body: () throws(ElanusError) -> T) throws(ElanusError) -> T {
        state.withLock { s in
            s.builds += 1
            if threads > s.threads {
                s.threads = threads
                vf_set_blas_threads(Int32(threads))
            }
        }
        defer {
            state.withLock { s in
                s.builds -= 1
                if s.builds == 0 && s.threads != 1 {
                    s.threads = 1
                    vf_set_blas_threads(1)
                }
            }
        }
        return try body()
    }
}
