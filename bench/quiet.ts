// Imported first by the benches that run a gateway in their own process: its log line and
// metrics line per request would bury the bench's tables. (Evaluated before the logger is made.)
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
