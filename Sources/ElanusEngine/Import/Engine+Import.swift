import Dispatch
import ElanusCore
import ElanusStorage
import Foundation
import Synchronization

/// Bulk import (`jobs/import/*`): files from the import directory, read in the background by one
/// thread, checked row by row as inserts are, written as flushed segments and committed at once
/// (see `CollectionData+Import` for the commit order). A failed job leaves nothing behind; a
/// job cut short by a shutdown or a crash runs again from the start at the next start.
extension Engine {
    /// At most this many file groups per job, and unfinished jobs at once (Milvus's limits).
    public static let maxImportFiles = 1024
    public static let maxImportJobs = 1024

    /// Checks the request, records the job as Pending and queues it; returns its id.
    public func createImport(
        database: String, collection: String, partitionName: String?, files: [[String]], options: [String: String]
    ) throws(ElanusError) -> Int64 {
        let info = try catalog.collection(database: database, name: collection)
        if let partitionName, !partitionName.isEmpty {
            if info.schema.partitionKeyField != nil {
                throw .invalidParameter("the collection has a partition key: rows are routed by it, do not give partitionName")
            }
            guard info.partition(named: partitionName) != nil else { throw Catalog.partitionNotFound(partitionName) }
        }
        // Milvus's proxy drops empty groups before it counts them.
        let files = files.filter { !$0.isEmpty }
        guard !files.isEmpty else { throw .invalidParameter("import request is empty") }
        guard files.count <= Engine.maxImportFiles else {
            throw ElanusError(.importFailed, "The max number of import files should not exceed \(Engine.maxImportFiles), but got \(files.count)")
        }
        _ = try importOptions(options, info: info)
        var groups: [ImportJob.Group] = []
        for group in files {
            _ = try ImportReader.format(ofGroup: group)
            var size = 0
            for name in group { size += try importFileSize(name) }
            groups.append(ImportJob.Group(files: group, fileSize: size))
        }
        let job = try importJobs.withLock { (jobs: inout [Int64: ImportJob]) throws(ElanusError) -> ImportJob in
            guard jobs.values.filter({ !$0.finished }).count < Engine.maxImportJobs else {
                throw ElanusError(.rateLimited, "request is rejected by limiter: \(Engine.maxImportJobs) import jobs are already unfinished")
            }
            let job = ImportJob(
                id: Int64(bitPattern: try tso.next()), database: database, collection: collection, collectionID: info.id,
                partition: partitionName.flatMap { $0.isEmpty ? nil : $0 }, options: options, groups: groups,
                createTime: UInt64(Date().timeIntervalSince1970 * 1000))
            // Durable before it is acknowledged, so a restart runs it.
            try metaStore.commit([.put(ImportJob.key(job.id), try Keys.encode(job))])
            jobs[job.id] = job
            return job
        }
        logger.info("import job created", metadata: ["jobId": "\(job.id)", "collection": "\(collection)", "files": "\(files.flatMap { $0 })"])
        importLoop.wake()
        return job.id
    }

    /// Jobs, oldest first, of one collection (or all) in a database (or all).
    public func importJobList(database: String?, collection: String?) -> [ImportJob] {
        importJobs.withLock { jobs in
            jobs.values.filter { (database == nil || $0.database == database) && (collection == nil || $0.collection == collection) }.sorted { $0.id < $1.id }
        }
    }

    public func importJob(_ id: Int64) throws(ElanusError) -> ImportJob {
        guard let job = importJobs.withLock({ $0[id] }) else { throw .invalidParameter("import job \(id) not found") }
        return job
    }

    /// The import directory's path of a file named in a request, which must stay inside it.
    func importPath(_ name: String) throws(ElanusError) -> String {
        let root = URL(fileURLWithPath: configuration.importDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw .invalidParameter("file \(name) must be a path relative to the import directory, without ..")
        }
        let path = URL(fileURLWithPath: root + "/" + name).standardizedFileURL.resolvingSymlinksInPath().path
        guard path.hasPrefix(root + "/") else { throw .invalidParameter("file \(name) leads outside the import directory") }
        return path
    }

    /// The file's size, or 0 when it cannot be read now: like Milvus, a create does not look
    /// for the files; a job whose file is missing fails when it runs, with the file's name
    /// (never the server's path) as its reason.
    private func importFileSize(_ name: String) throws(ElanusError) -> Int {
        let path = try importPath(name)
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? Int) ?? 0
    }

    private func importOptions(_ options: [String: String], info: CollectionInfo) throws(ElanusError) -> ImportReader {
        var reader = ImportReader(schema: info.schema)
        reader.timeZone = try timeZone(info)
        // Milvus's backup mode imports its own binlog segments (what milvus-backup writes); Elanus
        // has no binlog reader, so the option is refused by name rather than read as a file list.
        if let backup = options["backup"], ["1", "t", "true"].contains(backup.lowercased()) {
            throw .invalidParameter("invalid import option backup=\(backup): importing Milvus binlog files (backup mode) is not supported by Elanus; import JSON, CSV or NumPy files")
        }
        if let sep = options["sep"] {
            guard sep.utf8.count == 1, let byte = sep.utf8.first, byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D else {
                throw .invalidParameter("option sep must be one character other than a quote or a line break, got \"\(sep)\"")
            }
            reader.separator = byte
        }
        if let nullKey = options["nullkey"] { reader.nullKey = nullKey }
        return reader
    }

    /// Runs of one job that may end without finishing (a crash, a SIGKILL) before it is
    /// quarantined as Failed instead of run at every start.
    static let maxUnfinishedImportRuns = 3

    /// Loads the jobs at start. Unfinished ones committed nothing (their files are orphans the
    /// collections' recovery removed), so they go back to Pending and run again, unless their
    /// runs ended without finishing too often: a file that crashes the server must not put it in
    /// a crash loop. A record that cannot be decoded is skipped and logged, not fatal.
    func recoverImportJobs() throws(ElanusError) {
        var jobs: [Int64: ImportJob] = [:]
        for (key, value) in try metaStore.scan(prefix: ImportJob.keyPrefix) {
            var job: ImportJob
            do { job = try Keys.decode(value) } catch {
                logger.error("an import job record cannot be read; it is skipped", metadata: ["key": "\(key)", "error": "\(error.message)"])
                continue
            }
            if !job.finished, let runs = job.unfinishedRuns, runs >= Engine.maxUnfinishedImportRuns {
                let reason = "import failed: the job was started \(runs) times and the server stopped each time before it finished; it is not run again (its files may crash the server: see the log)"
                logger.error("import job quarantined", metadata: ["jobId": "\(job.id)", "collection": "\(job.collection)", "unfinishedRuns": "\(runs)"])
                job.state = .failed
                job.reason = reason
                job.importedRows = 0
                job.completeTime = UInt64(Date().timeIntervalSince1970 * 1000)
                for g in job.groups.indices where job.groups[g].state != .completed {
                    job.groups[g].state = .failed
                    job.groups[g].reason = reason
                }
                do { try metaStore.commit([.put(ImportJob.key(job.id), try Keys.encode(job))]) } catch {
                    logger.error("cannot record the import job's quarantine", metadata: ["jobId": "\(job.id)", "error": "\(error)"])
                }
            } else if !job.finished {
                job.state = .pending
                job.importedRows = 0
                for i in job.groups.indices { job.groups[i] = ImportJob.Group(files: job.groups[i].files, fileSize: job.groups[i].fileSize) }
                logger.info("import job resumes after a restart", metadata: ["jobId": "\(job.id)", "collection": "\(job.collection)"])
            }
            jobs[job.id] = job
        }
        importJobs.withLock { $0 = jobs }
    }

    /// One round of the import thread: every pending job, oldest first.
    func importRound() {
        while !importLoop.isStopping, let job = importJobs.withLock({ $0.values.filter { $0.state == .pending }.min { $0.id < $1.id } }) {
            runImport(job)
        }
    }

    private func updateJob(_ id: Int64, _ change: (inout ImportJob) -> Void) {
        importJobs.withLock { jobs in if jobs[id] != nil { change(&jobs[id]!) } }
    }

    private func runImport(_ pending: ImportJob) {
        let began = DispatchTime.now().uptimeNanoseconds
        // Durable before the files are read: if this run kills the process, the next start knows.
        var start = pending
        start.unfinishedRuns = (start.unfinishedRuns ?? 0) + 1
        do { try metaStore.commit([.put(ImportJob.key(start.id), try Keys.encode(start))]) } catch {
            failImport(start.id, error)
            return
        }
        updateJob(start.id) { $0.unfinishedRuns = start.unfinishedRuns }
        updateJob(start.id) { $0.state = .importing }
        let registered = jobs.begin(.importing, collection: start.collectionID, detail: "job \(start.id)")
        defer { jobs.end(registered) }
        logger.info("import job started", metadata: ["jobId": "\(start.id)", "collection": "\(start.collection)"])
        var written: [CollectionData.ImportedSegment] = []
        var data: CollectionData?
        do throws(ElanusError) {
            guard let info = catalog.collection(id: start.collectionID) else {
                throw ElanusError(.importFailed, "import failed: collection \(start.collection) was dropped")
            }
            let collection = try self.data(for: info)
            data = collection
            let reader = try importOptions(start.options, info: info)
            let primary = try primaryField(info)
            // Rows wait per partition until they fill a segment.
            var pending: [Int64: (batches: [EntityBatch], rows: Int)] = [:]
            func writeOut(_ partitionID: Int64) throws(ElanusError) {
                guard let entry = pending.removeValue(forKey: partitionID), entry.rows > 0 else { return }
                written.append(try collection.writeImportSegment(partitionID: partitionID, batches: entry.batches))
            }
            for (g, group) in start.groups.enumerated() {
                updateJob(start.id) { $0.groups[g].state = .importing }
                var files: [(name: String, path: String)] = []
                for name in group.files { files.append((name, try importPath(name))) }
                try reader.read(files) { (batch: EntityBatch, done: Double) throws(ElanusError) in
                    if importLoop.isStopping || registered.isCancelled {
                        // Shutdown cancels jobs before it stops the import loop: whether the
                        // collection is still there tells a shutdown from a drop.
                        if catalog.collection(id: start.collectionID) == nil {
                            throw ElanusError(.importFailed, "import failed: collection \(start.collection) was dropped")
                        }
                        throw ElanusError(.notReady, "the server is shutting down")
                    }
                    var batch = batch
                    try generateKeys(&batch, primary)
                    for (partitionID, part) in try PartitionRouter.route(batch, info: info, partitionName: start.partition) {
                        pending[partitionID, default: ([], 0)].batches.append(part)
                        pending[partitionID]!.rows += part.rowCount
                        if pending[partitionID]!.rows >= configuration.segments.maxRows { try writeOut(partitionID) }
                    }
                    updateJob(start.id) { job in
                        job.importedRows += batch.rowCount
                        job.groups[g].importedRows += batch.rowCount
                        job.groups[g].progress = min(99, Int(done * 100))
                    }
                }
                updateJob(start.id) { job in
                    job.groups[g].progress = 100
                    job.groups[g].state = .completed
                }
            }
            for partitionID in Array(pending.keys).sorted() { try writeOut(partitionID) }
            // Step 3 of the commit: the segments and the Completed job in one meta-store commit.
            var finished = importJobs.withLock { $0[start.id] } ?? start
            finished.state = .completed
            finished.completeTime = UInt64(Date().timeIntervalSince1970 * 1000)
            for g in finished.groups.indices { finished.groups[g].completeTime = finished.completeTime }
            let record = finished
            try collection.commitImport(written) { () throws(ElanusError) in [.put(ImportJob.key(record.id), try Keys.encode(record))] }
            updateJob(start.id) { $0 = record }
            counters.rowsImported.add(record.importedRows, ordering: .relaxed)
            // Rows imported into a released partition keep only their keys in memory, as there.
            if let current = catalog.collection(id: info.id) {
                collection.release(partitions: Set(current.partitions.filter { !$0.loaded }.map(\.id)))
            }
            indexBuilder.wake()
            logger.info(
                "import job completed",
                metadata: [
                    "jobId": "\(start.id)", "collection": "\(start.collection)", "rows": "\(record.importedRows)", "segments": "\(written.count)",
                    "seconds": "\(String(format: "%.2f", Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9))",
                ])
        } catch {
            for segment in written { data?.objects.remove(segment.file) }
            if importLoop.isStopping || (registered.isCancelled && catalog.collection(id: start.collectionID) != nil) {
                // Left Pending: the next start runs it again. A clean interruption is no sign of
                // a bad job, so this run is not counted.
                if (try? metaStore.commit([.put(ImportJob.key(pending.id), try Keys.encode(pending))])) == nil {
                    logger.warning("cannot record the import job's interruption", metadata: ["jobId": "\(start.id)"])
                }
                logger.info("import job interrupted by shutdown; it runs again at the next start", metadata: ["jobId": "\(start.id)"])
                return
            }
            failImport(start.id, error)
        }
    }

    private func failImport(_ id: Int64, _ error: ElanusError) {
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let record: ImportJob? = importJobs.withLock { jobs in
            guard jobs[id] != nil else { return nil }
            jobs[id]!.state = .failed
            jobs[id]!.reason = error.message
            jobs[id]!.completeTime = now
            jobs[id]!.importedRows = 0
            for g in jobs[id]!.groups.indices where jobs[id]!.groups[g].state != .completed {
                jobs[id]!.groups[g].state = .failed
                jobs[id]!.groups[g].reason = error.message
            }
            return jobs[id]
        }
        logger.warning("import job failed", metadata: ["jobId": "\(id)", "error": "\(error.message)"])
        guard let record else { return }
        do {
            try metaStore.commit([.put(ImportJob.key(id), try Keys.encode(record))])
        } catch {
            // In memory it is Failed; after a restart it would run again and fail the same way.
            logger.error("cannot record the import job's failure", metadata: ["jobId": "\(id)", "error": "\(error)"])
        }
    }
}
