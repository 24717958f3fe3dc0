import ElanusCore
import ElanusEngine
import Foundation

/// `jobs/import/*`: bulk import from files in the server's import directory.
enum ImportRoutes {
    static func register(into routes: inout [String: RouteHandler]) {
        routes["jobs/import/create"] = { context in
            let body = try context.body("ImportReq")
            let name = try body.string("collectionName", required: true)!
            guard let groups = try body.array("files", required: true) else { throw body.missing("files") }
            var files: [[String]] = []
            for group in groups {
                guard case .array(let names) = group else { throw body.wrongType("files", group, expected: "[][]string") }
                var strings: [String] = []
                for element in names {
                    guard case .string(let s) = element else { throw body.wrongType("files", element, expected: "[][]string") }
                    strings.append(s)
                }
                files.append(strings)
            }
            var options: [String: String] = [:]
            for entry in try body.stringMap("options") ?? [] { options[entry.key] = entry.value }
            let id = try context.engine.createImport(
                database: try context.database(body), collection: name, partitionName: try body.string("partitionName"), files: files, options: options)
            return Envelope.success(["jobId": .string(String(id))])
        }
        routes["jobs/import/list"] = { context in
            let body = try context.body("ListImportReq")
            let collection = try body.string("collectionName").flatMap { $0.isEmpty ? nil : $0 }
            let database = try body.string("dbName").flatMap { $0.isEmpty ? nil : $0 } ?? context.request.headers["DB-Name"].flatMap { $0.isEmpty ? nil : $0 }
            let records: [JSON] = context.engine.importJobList(database: database, collection: collection).map { job in
                var members: [(key: String, value: JSON)] = [
                    ("jobId", .string(String(job.id))), ("collectionName", .string(job.collection)), ("state", .string(job.state.rawValue)),
                    ("progress", .int(Int64(job.progress))),
                ]
                if !job.reason.isEmpty { members.append(("reason", .string(job.reason))) }
                return .object(members)
            }
            return Envelope.success(["records": .array(records)])
        }
        let describe: RouteHandler = { context in
            let body = try context.body("GetImportReq")
            _ = try context.database(body)  // checked for its type, as Milvus decodes the whole request
            guard let text = try body.string("jobId", required: true), let id = Int64(text) else {
                throw ElanusError.invalidParameter("jobId must be the id that jobs/import/create returned")
            }
            return Envelope.success(render(try context.engine.importJob(id)))
        }
        routes["jobs/import/describe"] = describe
        routes["jobs/import/get_progress"] = describe
    }

    static func render(_ job: ImportJob) -> JSON {
        var members: [(key: String, value: JSON)] = [
            ("jobId", .string(String(job.id))), ("collectionName", .string(job.collection)),
            ("createTime", .string(time(job.createTime))), ("completeTime", .string(job.completeTime.map(time) ?? "")),
            ("state", .string(job.state.rawValue)), ("progress", .int(Int64(job.progress))),
            ("importedRows", .int(Int64(job.importedRows))), ("totalRows", .int(Int64(job.importedRows))),
            ("fileSize", .int(Int64(job.fileSize))),
        ]
        if !job.reason.isEmpty { members.append(("reason", .string(job.reason))) }
        let details: [JSON] = job.groups.map { group in
            var detail: [(key: String, value: JSON)] = [
                ("fileName", .string(group.files.joined(separator: ","))), ("fileSize", .int(Int64(group.fileSize))),
                ("progress", .int(Int64(group.state == .completed && job.state == .completed ? 100 : min(group.progress, 99)))),
                ("completeTime", .string(group.completeTime.map(time) ?? "")), ("state", .string(group.state.rawValue)),
                ("importedRows", .int(Int64(group.importedRows))), ("totalRows", .int(Int64(group.importedRows))),
            ]
            if !group.reason.isEmpty { detail.append(("reason", .string(group.reason))) }
            return .object(detail)
        }
        members.append(("details", .array(details)))
        return .object(members)
    }

    /// Milvus writes times in RFC 3339 form.
    static func time(_ milliseconds: UInt64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
