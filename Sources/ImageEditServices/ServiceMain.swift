import Foundation
import Hummingbird
import Logging
import ServiceConfig

/// The `imageedit` command: `imageedit auth|gateway|keygen`. Returns the process exit code.
public func imageeditMain(_ arguments: [String]) async -> Int32 {
    let command = arguments.dropFirst().first ?? "help"
    let environment: ConfigEnvironment
    do {
        environment = try ConfigEnvironment.load()
    } catch {
        FileHandle.standardError.write(Data("imageedit: \(error)\n".utf8))
        return 2
    }
    ProcessMetrics.bootstrapOnce()
    var logger = Logger(label: "imageedit-\(command)")
    logger.logLevel = Logger.Level(rawValue: environment["LOG_LEVEL"]?.lowercased() ?? "info") ?? .info
    do {
        switch command {
        case "auth":
            let service = try await startAuthService(environment, logger: logger)
            await waitForTermination()
            logger.info("auth service stopping")
            await service.shutdown()
        case "storage":
            let service = try await startStorageService(environment, logger: logger)
            await waitForTermination()
            logger.info("storage service stopping")
            await service.shutdown()
        case "edit":
            let service = try await startEditService(environment, logger: logger)
            await waitForTermination()
            logger.info("edit service stopping")
            await service.shutdown()
        case "gateway":
            let app = try makeGateway(environment, logger: logger)
            do {
                try await app.runService()
            } catch where isAddressInUse(error) {
                let settings = try GatewayServiceSettings(environment)
                throw PortInUseError(variable: "GATEWAY_PORT", address: "\(settings.gateway.host):\(settings.gateway.port)")
            }
        case "keygen":
            print(try SigningKeyLoader.generate())
        case "help", "-h", "--help":
            print(usage)
        default:
            FileHandle.standardError.write(Data("imageedit: unknown command \"\(command)\"\n\(usage)\n".utf8))
            return 2
        }
        return 0
    } catch let error as ConfigError {
        FileHandle.standardError.write(Data("imageedit \(command): \(error)\n".utf8))
        return 2
    } catch {
        FileHandle.standardError.write(Data("imageedit \(command): cannot start: \(describe(error))\n".utf8))
        return 1
    }
}

let usage = """
    usage: imageedit <command>
      auth      run the auth service (gRPC, AUTH_PORT)
      storage   run the storage service (gRPC, STORAGE_PORT)
      edit      run the edit service (gRPC, EDIT_PORT)
      gateway   run the REST gateway (HTTP, GATEWAY_PORT)
      keygen    print a new AUTH_SIGNING_KEY
    Configuration comes from the environment and .env; see README.md.
    """

func describe(_ error: any Error) -> String {
    if let error = error as? PortInUseError { return error.description }
    let text = String(describing: error)
    if isAddressInUse(error) {
        return "the port is already in use (\(text))"
    }
    return text
}

/// A listen address another process holds, reported as one line naming the address and the
/// variable that chose it.
struct PortInUseError: Error, CustomStringConvertible {
    /// The setting that chose the port, e.g. `AUTH_PORT`.
    let variable: String
    /// `host:port`.
    let address: String

    var description: String {
        "\(address) is already in use (\(variable)): stop the process holding it or choose another port"
    }
}

/// Whether `error` is a bind that failed because the address is taken (EADDRINUSE), as NIO
/// reports it.
func isAddressInUse(_ error: any Error) -> Bool {
    let text = String(describing: error)
    return text.contains("Address already in use") || text.contains("EADDRINUSE")
}

/// Suspends until SIGTERM or SIGINT arrives.
func waitForTermination() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let once = OnceFlag()
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                if once.claim() { continuation.resume() }
            }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static let lock = NSLock()
    static func keep(_ source: any DispatchSourceSignal) {
        lock.lock()
        sources.append(source)
        lock.unlock()
    }
}

final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if claimed { return false }
        claimed = true
        return true
    }
}
