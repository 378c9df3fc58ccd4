internal import CVips

/// Process-wide memory settings for a process that runs image work.
public enum ImageMemory {
    /// Caps glibc's malloc arenas at `count`. glibc gives each thread that allocates its own
    /// arena, up to 8 per core; image workers and libvips' threads each kept freed image
    /// buffers in theirs. With 2, the edit service's peak RSS under 16 concurrent 1 MiB uploads
    /// was ~7 MiB lower at no measurable CPU cost (Benchmarks/README.md, "Image routes").
    /// Call once at start, before the worker threads exist; arenas already made stay. Returns
    /// whether glibc accepted it.
    @discardableResult
    public static func limitMallocArenas(to count: Int) -> Bool {
        ie_malloc_arena_max(Int32(count)) == 1
    }
}
