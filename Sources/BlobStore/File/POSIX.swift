#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: its name, the path it was about (relative to the store's root, so no
/// absolute layout reaches logs) and `errno`.
struct SystemCallError: Error, Sendable, CustomStringConvertible {
    let call: String
    let path: String
    let code: Int32

    var description: String { "\(call)(\(path)): \(String(cString: strerror(code))) (errno \(code))" }
}

/// The one funnel for POSIX calls that return -1 and set `errno`: retries `EINTR`, throws
/// ``SystemCallError`` otherwise.
@discardableResult
func posix(_ call: String, _ path: String, _ body: () -> Int32) throws(SystemCallError) -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: call, path: path, code: code)
    }
}

/// Blocking file operations the store is built from. Every path is absolute, made by the store
/// from a validated key; `display` is what errors show.
enum POSIXFile {
    static let directoryMode: mode_t = 0o755
    static let fileMode: mode_t = 0o644

    /// Writes all of `bytes` to a new file at `path` (which must not exist) and fsyncs it.
    static func writeNew(_ path: String, _ bytes: [UInt8], display: String) throws(SystemCallError) {
        let fd = try posix("open", display) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode) }
        var closed = false
        defer { if !closed { close(fd) } }
        var written = 0
        while written < bytes.count {
            let count = try posix("write", display) {
                bytes.withUnsafeBytes { Int32(truncatingIfNeeded: write(fd, $0.baseAddress! + written, min($0.count - written, 1 << 30))) }
            }
            written += Int(count)
        }
        try posix("fsync", display) { fsync(fd) }
        closed = true
        try posix("close", display) { close(fd) }
    }

    /// The whole content of the regular file at `path`; throws `ENOENT` for a directory or any
    /// other non-regular file, and does not follow a symbolic link in the last component.
    static func readAll(_ path: String, display: String) throws(SystemCallError) -> [UInt8] {
        let fd = try posix("open", display) { open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        defer { close(fd) }
        var info = stat()
        try posix("fstat", display) { fstat(fd, &info) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw SystemCallError(call: "open", path: display, code: ENOENT) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try posix("read", display) {
                buffer.withUnsafeMutableBytes { Int32(truncatingIfNeeded: read(fd, $0.baseAddress, $0.count)) }
            }
            if count == 0 { return bytes }
            bytes += buffer[0..<Int(count)]
        }
    }

    /// `lstat`'s file type bits, or nil when nothing is at `path`.
    static func fileType(_ path: String, display: String) throws(SystemCallError) -> mode_t? {
        var info = stat()
        do {
            try posix("lstat", display) { lstat(path, &info) }
        } catch where error.code == ENOENT || error.code == ENOTDIR {
            return nil
        }
        return info.st_mode & S_IFMT
    }

    /// Flushes a directory's entries (a rename or a new file in it) to disk.
    static func syncDirectory(_ path: String, display: String) throws(SystemCallError) {
        let fd = try posix("open", display) { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try posix("fsync", display) { fsync(fd) }
    }

    /// `mkdir -p`: creates `path` and missing parents below `root` (which must exist), and syncs
    /// the parent of each directory it creates.
    static func makeDirectories(_ path: String, root: String, display: String) throws(SystemCallError) {
        guard path != root else { return }
        if try fileType(path, display: display) == S_IFDIR { return }
        let parent = String(path[..<path.lastIndex(of: "/")!])
        try makeDirectories(parent, root: root, display: display)
        do {
            try posix("mkdir", display) { mkdir(path, directoryMode) }
        } catch where error.code == EEXIST {
            // Made concurrently, or a file is in the way (the next call reports that).
            return
        }
        try syncDirectory(parent, display: display)
    }

    /// The names in the directory at `path`, without `.` and `..`.
    static func entries(_ path: String, display: String) throws(SystemCallError) -> [String] {
        guard let directory = opendir(path) else { throw SystemCallError(call: "opendir", path: display, code: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
