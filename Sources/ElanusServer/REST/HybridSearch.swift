import ElanusCore
import ElanusEngine
import ElanusHTTP
import ElanusQuery
import Glibc

/// `entities/hybrid_search`: several searches (each with its own vector field, filter and
/// limit) over the same query count, fused per query by a reranker:
/// - `rrf` (parameter `k`, default 60): score = sum over searches of 1 / (k + rank), rank from 1;
/// - `weighted` (`weights`, one per search): score = sum of weight * normalized score, where
///   scores are mapped to [0, 1] with Milvus's arctan normalization, higher being better.
extension QueryRoutes {
    static func hybridSearch(_ context: RouteContext) throws -> HTTPResponse {
        let body = try context.body("HybridSearchReq")
        let info = try collection(body, context)
        try ReadRequest.checkConsistency(body)
        guard let searches = try body.records("search", structName: "SubSearchReq", required: true), !searches.isEmpty else {
            throw body.missing("search")
        }
        if let grouping = try body.string("groupingField"), !grouping.isEmpty {
            throw ElanusError.invalidParameter("groupingField is not supported in hybrid search yet")
        }
        // As in Milvus, whose hybrid search takes no highlighter.
        if let value = body["highlighter"], !value.isNull {
            throw ElanusError.invalidParameter("highlighter is not supported in hybrid search; highlight the hits of a search")
        }
        let partitions = try body.stringArray("partitionNames")
        var requests: [SearchRequest] = []
        for search in searches {
            // A sub-search (Milvus's SubSearchReq) takes its search params from `params`, and the
            // partitions are the request's; keys it does not have are not read.
            var members = search.members.filter { member in
                !["searchParams", "partitionNames", "consistencyLevel"].contains { search.matches(member.key, $0) }
            }
            if let params = try search.map("params") { members.append((key: "searchParams", value: ["params": .object(params.members)])) }
            if let partitions { members.append((key: "partitionNames", value: .array(partitions.map { .string($0) }))) }
            let sub = RequestBody(members: members, structName: "SubSearchReq")
            requests.append(try searchRequest(sub, info: info, context: context, allowGrouping: false))
        }
        let nq = requests[0].vectors.count
        guard requests.allSatisfy({ $0.vectors.count == nq }) else {
            throw ElanusError.invalidParameter("every sub-search of a hybrid search needs the same number of query vectors")
        }
        let (limit, offset) = try ReadRequest.window(body)
        let fuse = try reranker(body, searches: requests.count)
        let results = try fused(requests, info: info, limit: limit, offset: offset, fuse: fuse, engine: context.engine, cancellation: context.cancellation)
        return try render(results, info: info, body: body, context: context)
    }

    /// Runs every search and fuses their hits per query: the one implementation behind REST's
    /// hybrid_search and gRPC's HybridSearch.
    static func fused(
        _ requests: [SearchRequest], info: CollectionInfo, limit: Int, offset: Int, fuse: Fuse, engine: Engine, cancellation: Cancellation?
    ) throws(ElanusError) -> [[SearchHit]] {
        let nq = requests[0].vectors.count
        var results: [[SearchHit]] = Array(repeating: [], count: nq)
        let perSearch = try requests.map { request throws(ElanusError) in try engine.search(info, request, cancellation: cancellation) }
        guard let primary = info.schema.primaryField else { throw ElanusError.unexpected("no primary key") }
        for q in 0..<nq {
            var fused: [PrimaryKey: (score: Float, hit: SearchHit)] = [:]
            var order: [PrimaryKey] = []
            for (s, request) in requests.enumerated() {
                for (rank, hit) in perSearch[s][q].enumerated() {
                    guard let key = primaryKey(hit, primary) else { continue }
                    let contribution = fuse(s, rank, hit.score, request.metric)
                    if let existing = fused[key] {
                        fused[key] = (existing.score + contribution, existing.hit)
                    } else {
                        fused[key] = (contribution, hit)
                        order.append(key)
                    }
                }
            }
            let ranked = order.compactMap { fused[$0] }.sorted { $0.score > $1.score }
            results[q] = ranked.dropFirst(offset).prefix(limit).map { SearchHit(score: $0.score, batch: $0.hit.batch, row: $0.hit.row) }
        }
        return results
    }

    typealias Fuse = (_ search: Int, _ rank: Int, _ score: Float, _ metric: Metric) -> Float

    static func reranker(_ body: RequestBody, searches: Int) throws(ElanusError) -> Fuse {
        let rerank = try body.structure("rerank", structName: "Rand")
        let strategy = try rerank?.string("strategy") ?? "rrf"
        let params = try rerank?.map("params")
        switch strategy.lowercased() {
        case "rrf":
            let k: Double
            switch params?["k"] {
            case .int(let i)?: k = Double(i)
            case .double(let d)?: k = d
            case nil, .null?: k = 60
            default: throw ElanusError.invalidParameter("rrf k must be a number")
            }
            guard k > 0 && k < 16384 else { throw ElanusError.invalidParameter("rrf k must be in (0, 16384), got \(k)") }
            return { _, rank, _, _ in Float(1 / (k + Double(rank + 1))) }
        case "weighted":
            guard case .array(let items)? = params?["weights"] else { throw ElanusError.invalidParameter("the weighted reranker needs params.weights") }
            var weights: [Float] = []
            for item in items {
                switch item {
                case .int(let i): weights.append(Float(i))
                case .double(let d): weights.append(Float(d))
                default: throw ElanusError.invalidParameter("weights must be numbers")
                }
            }
            guard weights.count == searches else {
                throw ElanusError.invalidParameter("the weighted reranker got \(weights.count) weights for \(searches) searches")
            }
            guard weights.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw ElanusError.invalidParameter("weights must be in [0, 1]") }
            return { search, _, score, metric in weights[search] * normalized(score, metric) }
        default:
            throw ElanusError.invalidParameter("unknown rerank strategy \(strategy): use rrf or weighted")
        }
    }

    /// Milvus's score normalization for weighted fusion: into [0, 1], higher better.
    static func normalized(_ score: Float, _ metric: Metric) -> Float {
        switch metric {
        case .ip: return 0.5 + atanf(score) / .pi
        case .cosine: return (1 + score) / 2
        default: return 1 - 2 * atanf(score) / .pi
        }
    }

    static func primaryKey(_ hit: SearchHit, _ primary: FieldSchema) -> PrimaryKey? {
        switch hit.batch.column(primary.fieldID)?.value(at: hit.row) {
        case .int(let i)?: .int(i)
        case .string(let s)?: .string(s)
        default: nil
        }
    }
}
