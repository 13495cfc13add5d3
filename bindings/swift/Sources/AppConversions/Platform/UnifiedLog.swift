// The SDK's log lines in the unified log (Console.app, `log stream`), under the subsystem
// `dev.appconversions`. The core never puts tokens or identifiers in a line, so lines are
// logged as public.
import os

enum UnifiedLog {
    private static let logger = Logger(subsystem: "dev.appconversions", category: "sdk")

    /// Writes one line at the matching unified-log level.
    static func write(_ level: LogLevel, _ message: String) {
        switch level {
        case .off:
            break
        case .error:
            logger.error("\(message, privacy: .public)")
        case .warn:
            logger.warning("\(message, privacy: .public)")
        case .info:
            logger.info("\(message, privacy: .public)")
        case .debug:
            logger.debug("\(message, privacy: .public)")
        }
    }
}
