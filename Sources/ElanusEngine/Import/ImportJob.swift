import ElanusCore

/// A bulk import job (`jobs/import/*`), as persisted in the meta store under `import/job/<id>`
/// and reported by `describe`.
///
/// States: Pending (created, or interrupted by a restart: nothing of it was committed, so it
/// runs again from the start), Importing, then Completed or Failed. A job's rows become visible
/// all at once, in the same meta-store commit that marks it Completed.
public struct ImportJob: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case pending = "Pending", importing = "Importing", completed = "Completed", failed = "Failed"
    }

    /// One file group: a row-based file, or the `.npy` files of one set of rows.
    public struct Group: Codable, Sendable, Equatable {
        public var files: [String]
        public var fileSize: Int
        public var state: State = .pending
        public var progress = 0
        public var importedRows = 0
        public var reason = ""
        public var completeTime: UInt64?
    }

    public var id: Int64
    public var database: String
    public var collection: String
    public var collectionID: Int64
    public var partition: String?
    public var options: [String: String]
    public var groups: [Group]
    public var state: State = .pending
    public var reason = ""
    /// Wall-clock milliseconds.
    public var createTime: UInt64
    public var completeTime: UInt64?
    /// Rows read and checked so far; all of them once Completed.
    public var importedRows = 0
    /// How many times a run of the job began and did not end (recorded before each run, taken
    /// back when a shutdown interrupts it cleanly). A job that keeps killing the server is
    /// quarantined instead of run at every start. Optional: jobs written before it decode.
    public var unfinishedRuns: Int?
    public var fileSize: Int { groups.reduce(0) { $0 + $1.fileSize } }

    /// 0 to 100: the share of the files' bytes read, 100 only once committed.
    public var progress: Int {
        if state == .completed { return 100 }
        let total = max(fileSize, 1)
        let done = groups.reduce(0) { $0 + $1.fileSize * $1.progress / 100 }
        return min(99, done * 100 / total)
    }

    var finished: Bool { state == .completed || state == .failed }

    static let keyPrefix = "import/job/"
    static func key(_ id: Int64) -> String { keyPrefix + Keys.padded(id) }
}
