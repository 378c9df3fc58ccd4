/// Accumulates indented Swift source.
struct CodeWriter {
    private(set) var text = ""
    private var indentation = 0

    mutating func line(_ line: String = "") {
        if line.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: "    ", count: indentation) + line + "\n"
        }
    }

    /// Writes `header {`, the body indented, then `}`.
    mutating func block(_ header: String, _ body: (inout CodeWriter) throws(ProtoGenError) -> Void) throws(ProtoGenError) {
        line(header + " {")
        indentation += 1
        try body(&self)
        indentation -= 1
        line("}")
    }

    mutating func indent() { indentation += 1 }
    mutating func outdent() { indentation -= 1 }

    /// Writes documentation lines as `///` comments.
    mutating func doc(_ lines: [String]) {
        for text in lines {
            line(text.isEmpty ? "///" : "/// " + text)
        }
    }
}
