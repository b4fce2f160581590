// winston to stderr: `level: message`, with a timestamp unless journald (JOURNAL_STREAM) adds its own.
import winston from 'winston';

export function createLogger(level = 'info', component?: string): winston.Logger {
  const journald = Boolean(process.env.JOURNAL_STREAM);
  const line = winston.format.printf((info) => {
    const where = info.component ? `${String(info.component)}: ` : '';
    const stamp = journald ? '' : `${String(info.timestamp)} `;
    return `${stamp}${info.level}: ${where}${String(info.message)}`;
  });
  return winston.createLogger({
    level,
    defaultMeta: component ? { component } : undefined,
    format: winston.format.combine(winston.format.timestamp(), line),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
