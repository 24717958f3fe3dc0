/// The server's open connections, by fd and by client address. It lives inside the server's
/// table lock, so every read and change of it is ordered with the epoll_ctl calls and closes
/// made under that lock.
struct ConnectionTable {
    private(set) var byFD: [Int32: Connection] = [:]
    /// Open connections per peer address, for the per-address cap. An address leaves the map
    /// when its last connection closes, so the map never outgrows the connection table.
    private(set) var perAddress: [String: Int] = [:]

    var count: Int { byFD.count }

    subscript(fd: Int32) -> Connection? { byFD[fd] }

    func connections(from peer: String) -> Int { perAddress[peer] ?? 0 }

    mutating func insert(_ connection: Connection) {
        byFD[connection.fd] = connection
        perAddress[connection.peer, default: 0] += 1
    }

    mutating func remove(_ connection: Connection) {
        guard byFD.removeValue(forKey: connection.fd) != nil else { return }
        let left = (perAddress[connection.peer] ?? 1) - 1
        perAddress[connection.peer] = left > 0 ? left : nil
    }

    mutating func removeAll() {
        byFD.removeAll()
        perAddress.removeAll()
    }

    /// Keep-alive connections with no request in progress, longest idle first: the ones the
    /// server may close to admit a new connection. A connection a worker holds, one mid-request
    /// and one still in its TLS handshake are never among them (a request is never cut off).
    func idleLongestFirst() -> [Connection] {
        byFD.values
            .filter { !$0.busy && !$0.closed && !$0.handshaking && $0.requestStartMs == nil }
            .sorted { $0.lastActivityMs < $1.lastActivityMs }
    }
}
