import ElanusEngine
import Foundation
import Glibc

/// The `/metrics` page: request counters from the router, the engine's statistics, and process
/// figures, built fresh on each scrape.
enum MetricsPage {
    static func render(requests: RequestMetrics, engine: Engine?, openConnections: Int) -> String {
        var page = PrometheusText()
        requests.write(to: &page)
        page.family("elanus_open_connections", "gauge", "HTTP connections open now.")
        page.sample("elanus_open_connections", openConnections)
        page.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
        page.sample("process_resident_memory_bytes", residentBytes())
        page.family("elanus_ready", "gauge", "1 once recovery has finished and the API answers.")
        page.sample("elanus_ready", engine == nil ? 0 : 1)
        if let engine { write(engine.statistics(), to: &page) }
        return page.text
    }

    private static func write(_ stats: EngineStatistics, to page: inout PrometheusText) {
        page.family("elanus_rows_inserted_total", "counter", "Rows acknowledged by insert since the server started.")
        page.sample("elanus_rows_inserted_total", stats.rowsInserted)
        page.family("elanus_rows_upserted_total", "counter", "Rows acknowledged by upsert since the server started.")
        page.sample("elanus_rows_upserted_total", stats.rowsUpserted)
        page.family("elanus_rows_imported_total", "counter", "Rows committed by import jobs since the server started.")
        page.sample("elanus_rows_imported_total", stats.rowsImported)
        page.family("elanus_rows_deleted_total", "counter", "Live rows deleted since the server started.")
        page.sample("elanus_rows_deleted_total", stats.rowsDeleted)

        let collections = stats.collections.sorted { ($0.database, $0.name) < ($1.database, $1.name) }
        page.family("elanus_collection_entities", "gauge", "Live entities per collection.")
        for c in collections { page.sample("elanus_collection_entities", [("database", c.database), ("collection", c.name)], c.entities) }
        page.family("elanus_segments", "gauge", "Segments per collection and state (growing, sealed, flushed).")
        for c in collections {
            for state in ["growing", "sealed", "flushed"] {
                page.sample("elanus_segments", [("database", c.database), ("collection", c.name), ("state", state)], c.segments[state] ?? 0)
            }
        }
        page.family("elanus_wal_lag_records", "gauge", "Write-ahead log records not yet in flushed segments (replayed at restart).")
        for c in collections { page.sample("elanus_wal_lag_records", [("database", c.database), ("collection", c.name)], Double(c.walLagRecords)) }

        page.family("elanus_index_builds_running", "gauge", "Index builds in progress.")
        page.sample("elanus_index_builds_running", stats.indexBuildsRunning)
        page.family("elanus_index_builds_pending", "gauge", "Flushed segments waiting for an index build.")
        page.sample("elanus_index_builds_pending", collections.reduce(0) { $0 + $1.segmentsAwaitingIndex })
        page.family("elanus_index_builds_failed_total", "counter", "Index builds that failed since the server started.")
        page.sample("elanus_index_builds_failed_total", stats.indexBuildsFailed)

        page.family("elanus_compactions_running", "gauge", "Compactions in progress.")
        page.sample("elanus_compactions_running", stats.compactionsRunning)
        page.family("elanus_compactions_total", "counter", "Compaction plans finished since the server started, by result.")
        page.sample("elanus_compactions_total", [("result", "completed")], stats.compactionsCompleted)
        page.sample("elanus_compactions_total", [("result", "failed")], stats.compactionsFailed)

        page.family("elanus_wal_bytes", "gauge", "Bytes of the write-ahead log on disk.")
        page.sample("elanus_wal_bytes", stats.diskBytes["wal"] ?? 0)
        page.family("elanus_disk_bytes", "gauge", "Bytes on disk under the data directory, by area (meta, wal, objects).")
        for area in stats.diskBytes.keys.sorted() { page.sample("elanus_disk_bytes", [("area", area)], stats.diskBytes[area]!) }
    }

    /// From /proc/self/statm: the second field is resident pages.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
