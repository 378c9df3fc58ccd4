import NIOCore

/// A Swift `TaskExecutor` that runs jobs on one SwiftNIO event loop.
///
/// A task started with `Task(executorPreference:)` and this executor runs its nonisolated
/// code (the handler, and whatever nonisolated async functions it awaits) on the loop's
/// thread: starting a call and sending its result then need no thread switch. Code isolated
/// to an actor still runs on that actor; blocking work must not run here (it would stall
/// every connection on the loop), so handlers offload it themselves.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
