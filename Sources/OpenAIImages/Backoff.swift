/// Waits between attempts: exponential with jitter. Pure.
enum Backoff {
    /// The wait before attempt `attempt` (2 is the first retry): `initial * 2^(attempt-2)`,
    /// capped at `maximum`, then scaled by `jitter`, a factor in 0.5...1 (random in production).
    static func delay(beforeAttempt attempt: Int, initial: Duration, maximum: Duration, jitter: Double) -> Duration {
        let doublings = min(max(attempt - 2, 0), 30)
        var base = initial
        for _ in 0..<doublings where base < maximum { base = base * 2 }
        return min(base, maximum) * min(max(jitter, 0.5), 1.0)
    }

    /// A random jitter factor in 0.5...1.
    static func randomJitter() -> Double { Double.random(in: 0.5...1.0) }
}
