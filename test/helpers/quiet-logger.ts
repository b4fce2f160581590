// A winston logger that keeps messages in memory for assertions instead of printing them.
import winston from 'winston';
import Transport from 'winston-transport';

export function memoryLogger(level = 'debug'): { logger: winston.Logger; messages: string[] } {
  const messages: string[] = [];
  class Memory extends Transport {
    override log(info: { level: string; message: unknown }, next: () => void): void {
      messages.push(`${info.level}: ${String(info.message)}`);
      next();
    }
  }
  return { logger: winston.createLogger({ level, transports: [new Memory()] }), messages };
}
